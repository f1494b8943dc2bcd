// SPDX-License-Identifier: Apache-2.0

package probe

import "github.com/cilium/ebpf"

// loadObjects loads the object's maps and programs into objs, each
// optional program (optionalPrograms) only when its option asks for it: a
// kernel whose verifier refused one would then lose only what it counts,
// and without them the drops cost and load as they did.
func loadObjects(spec *ebpf.CollectionSpec, opts Options, objs *tcpdropObjects) error {
	optional := optionalPrograms(opts)
	spec = spec.Copy()
	for name, wanted := range optional {
		if !wanted {
			delete(spec.Programs, name)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return err
	}
	defer coll.Close() // what objs did not take
	var o struct {
		tcpdropMaps
		tcpdropVariables
		Kfree *ebpf.Program `ebpf:"tcpdrop_kfree"`
		Iter  *ebpf.Program `ebpf:"tcpdrop_listener_socks_iter"`
	}
	if err := coll.Assign(&o); err != nil {
		return err
	}
	objs.tcpdropMaps, objs.tcpdropVariables = o.tcpdropMaps, o.tcpdropVariables
	objs.TcpdropKfree, objs.TcpdropListenerSocksIter = o.Kfree, o.Iter
	// nil when not loaded
	objs.TcpdropReset = coll.DetachProgram(tcpdropProgTcpdropReset)
	objs.TcpdropRetransmit = coll.DetachProgram(tcpdropProgTcpdropRetransmit)
	objs.TcpdropRetransmitSynack = coll.DetachProgram(tcpdropProgTcpdropRetransmitSynack)
	objs.TcpdropConnectFailed = coll.DetachProgram(tcpdropProgTcpdropConnectFailed)
	return nil
}

// optionalPrograms are the object's programs loaded only when an option
// asks for them, by name: whether it does.
func optionalPrograms(opts Options) map[string]bool {
	return map[string]bool{
		tcpdropProgTcpdropReset:            opts.Resets,
		tcpdropProgTcpdropRetransmit:       opts.Retransmits,
		tcpdropProgTcpdropRetransmitSynack: opts.Retransmits,
		tcpdropProgTcpdropConnectFailed:    opts.FailedConnects,
	}
}
