// SPDX-License-Identifier: Apache-2.0

package hostload

import "os"

// RoleEnv tells a process started by this package which role it plays.
const RoleEnv = "TCPDROP_HOSTLOAD_ROLE"

const (
	roleHolder = "holder"
	roleEngine = "engine"
)

// RunChild runs the role RoleEnv names and exits; it returns at once in a
// process that has none (the driver). A program using this package calls
// it first thing in main.
func RunChild() {
	switch os.Getenv(RoleEnv) {
	case roleHolder:
		os.Exit(runHolder())
	case roleEngine:
		os.Exit(runEngine())
	}
}
