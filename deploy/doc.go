// SPDX-License-Identifier: Apache-2.0

// Package deploy holds the tests of what deploys the collector: the
// container image (image/, `make image`), run in a real container runtime,
// and the Kubernetes manifests (kubernetes/), validated against the
// Kubernetes API's schemas. It has no code of its own.
package deploy
