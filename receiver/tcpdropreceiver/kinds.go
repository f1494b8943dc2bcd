// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import "github.com/tcpdrop/tcpdrop/internal/probe"

// kindWords are how a kind of count and event (probe.Kind) reads in the
// records: the first word of its record's body, and what a summary
// counts.
type kindWords struct {
	title  string // "Drop"
	plural string // "drops"
	// located: its events have a kernel function and location (a drop's
	// kfree_skb caller); the other tracepoints give none.
	located bool
	// segments: its events stand for a number of segments
	// (probe.Event.Packets), which the records say.
	segments bool
	// noPacket: its events are of no packet (a failed connect), so they
	// have no TCP flags.
	noPacket bool
}

var wordsByKind = [...]kindWords{
	probe.KindDrop:  {title: "Drop", plural: "drops", located: true},
	probe.KindReset: {title: "Reset", plural: "resets"},
	// A retransmission's count and repeats are segments.
	probe.KindRetransmit:    {title: "Retransmit", plural: "segments sent again", segments: true},
	probe.KindConnectFailed: {title: "Connect failed", plural: "failed connects", noPacket: true},
}

// wordsOf returns the words of kind k; a kind this code does not know
// (a newer kernel program) reads as a drop without location.
func wordsOf(k probe.Kind) kindWords {
	if int(k) < len(wordsByKind) {
		return wordsByKind[k]
	}
	return kindWords{title: "Drop", plural: "drops"}
}
