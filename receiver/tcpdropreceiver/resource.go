// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// Every record and data point sits under the Resource of the process that
// owns its socket (process.pid, process.executable.name,
// process.linux.cgroup, container.id, k8s.pod.uid), so that processors
// that read Resource attributes (k8s_attributes) can add the pod's name;
// drops without a known owner sit under a Resource without them. Every
// Resource names the node (host.name), so that a backend that receives
// many nodes' drops keeps them apart.

// resourceKey is who a Resource stands for, with only the attributes the
// configuration keeps: owners that differ only in switched-off attributes
// share one Resource, and their series merge. The zero key is the Resource
// without an owner.
type resourceKey struct {
	pid                             int
	comm, cgroup, container, podUID string
}

// resources makes resource keys and Resources by the configuration.
type resources struct {
	cfg  metadata.ResourceAttributesConfig
	host string // host.name; "" leaves it out
}

func newResources(cfg metadata.ResourceAttributesConfig, host string) resources {
	return resources{cfg: cfg, host: host}
}

// ofOwner is the key of an owner's Resource: a drop's, a listener's,
// a count's.
func (r *resources) ofOwner(o drops.Owner) resourceKey {
	if o.Status != drops.OwnerProcess {
		return resourceKey{}
	}
	p := o.Process
	return r.kept(resourceKey{pid: p.PID, comm: p.Comm, cgroup: p.CgroupPath, container: p.ContainerID, podUID: p.PodUID})
}

// kept is k without the attributes switched off.
func (r *resources) kept(k resourceKey) resourceKey {
	if !r.cfg.ProcessPid.Enabled {
		k.pid = 0
	}
	if !r.cfg.ProcessExecutableName.Enabled {
		k.comm = ""
	}
	if !r.cfg.ProcessLinuxCgroup.Enabled {
		k.cgroup = ""
	}
	if !r.cfg.ContainerID.Enabled {
		k.container = ""
	}
	if !r.cfg.K8sPodUID.Enabled {
		k.podUID = ""
	}
	return k
}

// newBuilder makes the builder fill uses. A builder is not safe for
// concurrent use: each converter has its own, made once, since the
// builder holds a copy of the whole configuration.
func (r *resources) newBuilder() *metadata.ResourceBuilder {
	return metadata.NewResourceBuilder(r.cfg)
}

// fill sets k's attributes, and host.name, on res, with rb (newBuilder);
// values not known are left out.
func (r *resources) fill(rb *metadata.ResourceBuilder, k resourceKey, res pcommon.Resource) {
	if r.host != "" {
		rb.SetHostName(r.host)
	}
	if k.pid != 0 {
		rb.SetProcessPid(int64(k.pid))
	}
	if k.comm != "" {
		rb.SetProcessExecutableName(k.comm)
	}
	if k.cgroup != "" {
		rb.SetProcessLinuxCgroup(k.cgroup)
	}
	if k.container != "" {
		rb.SetContainerID(k.container)
	}
	if k.podUID != "" {
		rb.SetK8sPodUID(k.podUID)
	}
	rb.Emit().MoveTo(res)
}
