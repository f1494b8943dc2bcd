// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"
)

func TestExactDepends(t *testing.T) {
	show := `Package: linux-image-7.3.4+deb13-cloud-amd64
Version: 7.3.4-1~bpo13+1
Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), linux-binary-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), linux-modules-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), kmod

Package: linux-image-7.3.4+deb13-cloud-amd64
Version: 7.3.3-1
Depends: linux-binary-7.3.3+deb13-cloud-amd64 (= 7.3.3-1)
`
	got := exactDepends(show, "trixie-backports", "amd64")
	want := []pkg{
		{"trixie-backports", "amd64", "linux-binary-7.3.4+deb13-cloud-amd64", "7.3.4-1~bpo13+1"},
		{"trixie-backports", "amd64", "linux-modules-7.3.4+deb13-cloud-amd64", "7.3.4-1~bpo13+1"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("%+v, want %+v", got, want)
	}
	if got := exactDepends("Package: linux-image-5.10.0-46-cloud-amd64\nDepends: kmod, linux-base (>= 4.3~)\n", "s", "amd64"); len(got) != 0 {
		t.Errorf("5.10's image depends on no kernel package: %+v", got)
	}
}

func TestMirrors(t *testing.T) {
	uris := sourceURIs(`Types: deb
URIs: http://deb.debian.org/debian/
Suites: bookworm bookworm-updates
`)
	uris = append(uris, sourceURIs(`deb [signed-by=/usr/share/keyrings/a.gpg arch=amd64] https://packages.cloud.google.com/apt cloud-sdk main
deb http://security.debian.org/debian-security bookworm-security main
# deb http://commented.example/debian sid main
deb-src http://deb.debian.org/debian bookworm main
deb file:/local/debian ./
`)...)
	if got := strings.Join(uris, " "); got != "http://deb.debian.org/debian https://packages.cloud.google.com/apt http://security.debian.org/debian-security" {
		t.Errorf("addresses %q", got)
	}
	mirror, security, err := pickMirrors(uris)
	if err != nil || mirror != "http://deb.debian.org/debian" || security != "http://security.debian.org/debian-security" {
		t.Errorf("mirror %q security %q err %v", mirror, security, err)
	}
	if _, security, _ := pickMirrors([]string{"http://m.example/debian"}); security != "http://m.example/debian-security" {
		t.Errorf("no security archive in the sources: %q", security)
	}
	if _, _, err := pickMirrors([]string{"https://packages.cloud.google.com/apt"}); err == nil {
		t.Error("no Debian archive: no error")
	}
	got := sourcesList("http://m/debian", "http://m/debian-security", []string{"trixie-backports", "bullseye-security", "trixie-backports"}, []string{"amd64", "arm64"})
	want := "deb [arch=amd64,arm64 signed-by=" + debianKeyring + "] http://m/debian-security bullseye-security main\n" +
		"deb [arch=amd64,arm64 signed-by=" + debianKeyring + "] http://m/debian trixie-backports main\n"
	if got != want {
		t.Errorf("sources.list:\n%s\nwant:\n%s", got, want)
	}
}
