// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// apt is a private apt state under dir (its own sources.list, lists and
// cache), so that suites the machine does not use can be read without
// touching /etc/apt or /var/lib/apt. Nothing is installed: packages are
// downloaded with apt-get download and unpacked with dpkg-deb -x.
type apt struct {
	dir   string
	archs []string // the architectures of the packages, in sources.list and APT::Architectures
}

// The keyring of Debian's archive (package debian-archive-keyring, on every
// Debian); it signs every suite of the list.
const debianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

func (a apt) options() []string {
	return []string{
		"-o", "Dir::Etc::SourceList=" + filepath.Join(a.dir, "sources.list"),
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(a.dir, "sources.list.d"),
		"-o", "Dir::Etc::Preferences=" + filepath.Join(a.dir, "preferences"),
		"-o", "Dir::Etc::PreferencesParts=" + filepath.Join(a.dir, "preferences.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(a.dir, "lists"),
		"-o", "Dir::State::Status=" + filepath.Join(a.dir, "status"),
		"-o", "Dir::Cache=" + filepath.Join(a.dir, "cache"),
		"-o", "Acquire::Languages=none",
		// Foreign architectures are read too: packages are named name:arch.
		"-o", "APT::Architectures=" + strings.Join(a.archs, ","),
		// apt drops to user _apt to download; it could not write here.
		"-o", "APT::Sandbox::User=root",
	}
}

// setUp writes the private sources.list for the suites and reads their
// indexes (apt-get update).
func (a apt) setUp(ctx context.Context, suites []string) error {
	for _, d := range []string{"lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d"} {
		if err := os.MkdirAll(filepath.Join(a.dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(a.dir, "status"), nil, 0o644); err != nil {
		return err
	}
	mirror, security, err := machineMirrors()
	if err != nil {
		return err
	}
	src := sourcesList(mirror, security, suites, a.archs)
	if err := os.WriteFile(filepath.Join(a.dir, "sources.list"), []byte(src), 0o644); err != nil {
		return err
	}
	logf("apt: reading %s (%s) through a private state in %s", strings.Join(suites, ", "), strings.Join(a.archs, ", "), a.dir)
	_, err = run(ctx, "", nil, "apt-get", append(a.options(), "-qq", "update")...)
	return err
}

// packages are the packages that hold the files of p: p itself and, for
// newer kernels, the linux-image/binary/modules packages it depends on at an
// exact version (7.x's image package is empty and pulls in the other two).
func (a apt) packages(ctx context.Context, p pkg) ([]pkg, error) {
	out := []pkg{}
	todo := []pkg{p}
	seen := map[pkg]bool{}
	for len(todo) > 0 {
		q := todo[0]
		todo = todo[1:]
		if seen[q] {
			continue
		}
		seen[q] = true
		show, err := run(ctx, "", nil, "apt-cache", append(a.options(), "show", q.apt())...)
		if err != nil {
			served, _ := run(ctx, "", nil, "apt-cache", append(a.options(), "madison", q.Name+":"+q.Arch)...)
			return nil, fmt.Errorf("%s does not serve %s %s for %s (%w); it serves:\n%s", p.Suite, q.Name, q.Version, q.Arch, err, served)
		}
		out = append(out, q)
		todo = append(todo, exactDepends(show, q.Suite, q.Arch)...)
	}
	return out, nil
}

// kernelDep matches a Depends entry on a kernel package at an exact version.
var kernelDep = regexp.MustCompile(`^(linux-(?:image|binary|modules)-\d[^ ]*) \(= ([^)]+)\)$`)

// exactDepends reads the Depends line of apt-cache show's first record and
// returns the kernel packages it names at an exact version (of the same
// architecture).
func exactDepends(show, suite, arch string) []pkg {
	var deps []pkg
	sc := bufio.NewScanner(strings.NewReader(show))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // the end of the first record
		}
		rest, ok := strings.CutPrefix(line, "Depends: ")
		if !ok {
			continue
		}
		for _, d := range strings.Split(rest, ",") {
			alt, _, _ := strings.Cut(d, "|")
			if m := kernelDep.FindStringSubmatch(strings.TrimSpace(alt)); m != nil {
				deps = append(deps, pkg{Suite: suite, Arch: arch, Name: m[1], Version: m[2]})
			}
		}
	}
	return deps
}

// download fetches the .deb of each package into dir, unless it is there.
func (a apt) download(ctx context.Context, dir string, ps []pkg) ([]string, error) {
	var files []string
	for _, p := range ps {
		f, err := debFile(dir, p)
		if err == nil {
			files = append(files, f)
			continue
		}
		if _, err := run(ctx, dir, nil, "apt-get", append(a.options(), "-qq", "download", p.apt())...); err != nil {
			return nil, err
		}
		if f, err = debFile(dir, p); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// apt names p as apt-get and apt-cache take it: name:arch=version.
func (p pkg) apt() string {
	return p.Name + ":" + p.Arch + "=" + p.Version
}

// debFile is the downloaded .deb of p in dir: apt names it
// name_version_arch.deb, with the epoch's colon written %3a.
func debFile(dir string, p pkg) (string, error) {
	file := filepath.Join(dir, p.Name+"_"+strings.ReplaceAll(p.Version, ":", "%3a")+"_"+p.Arch+".deb")
	if _, err := os.Stat(file); err != nil {
		return "", err
	}
	return file, nil
}

// machineMirrors reads the archive addresses from the machine's own apt
// sources: the Debian mirror, and the security archive (an address ending
// in -security; else the mirror's address with -security appended).
func machineMirrors() (mirror, security string, err error) {
	var files []string
	for _, pattern := range []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	var uris []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		uris = append(uris, sourceURIs(string(data))...)
	}
	return pickMirrors(uris)
}

// sourceURIs returns the http(s) addresses of a sources file, one-line
// ("deb [options] uri suite...") or deb822 ("URIs: uri...") style.
func sourceURIs(text string) []string {
	var uris []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "deb":
			i := 1
			if strings.HasPrefix(f[i], "[") {
				for i < len(f) && !strings.HasSuffix(f[i], "]") {
					i++
				}
				i++
			}
			if i < len(f) {
				uris = append(uris, f[i])
			}
		case len(f) >= 2 && f[0] == "URIs:":
			uris = append(uris, f[1:]...)
		}
	}
	var web []string
	for _, u := range uris {
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			web = append(web, strings.TrimRight(u, "/"))
		}
	}
	return web
}

// pickMirrors chooses the Debian mirror and security archive among the
// machine's addresses: those whose path is /debian and /debian-security.
func pickMirrors(uris []string) (mirror, security string, err error) {
	for _, u := range uris {
		switch {
		case security == "" && strings.HasSuffix(u, "/debian-security"):
			security = u
		case mirror == "" && strings.HasSuffix(u, "/debian"):
			mirror = u
		}
	}
	if mirror == "" {
		return "", "", fmt.Errorf("no Debian archive (an address ending in /debian) in the machine's apt sources %v", uris)
	}
	if security == "" {
		security = mirror + "-security"
	}
	return mirror, security, nil
}

// sourcesList is the private sources.list: each suite once, the *-security
// ones from the security archive, for the architectures archs.
func sourcesList(mirror, security string, suites, archs []string) string {
	uniq := map[string]bool{}
	for _, s := range suites {
		uniq[s] = true
	}
	var sorted []string
	for s := range uniq {
		sorted = append(sorted, s)
	}
	sort.Strings(sorted)
	var b strings.Builder
	for _, s := range sorted {
		uri := mirror
		if strings.HasSuffix(s, "-security") {
			uri = security
		}
		fmt.Fprintf(&b, "deb [arch=%s signed-by=%s] %s %s main\n", strings.Join(archs, ","), debianKeyring, uri, s)
	}
	return b.String()
}
