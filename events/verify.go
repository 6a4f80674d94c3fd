package events

import (
	"context"
	"errors"
)

// LogReport is the outcome of walking the whole log.
type LogReport struct {
	Intact      bool        `json:"intact"`
	Events      uint64      `json:"events"`
	Aggregates  int         `json:"aggregates"`
	Checkpoints int         `json:"checkpoints"`
	UpTo        uint64      `json:"up_to_sequence"`
	FirstBreak  *ChainBreak `json:"first_break,omitempty"`
}

// VerifyLog walks every event in the stream: each hash against its
// content, each aggregate's chain, and each checkpoint's signature (by one
// of the trusted keys) and Merkle root over the events before it. It stops
// at the first break.
func VerifyLog(ctx context.Context, st *Store, trusted []string) (LogReport, error) {
	var (
		rep    LogReport
		chains = NewChainVerifier()
		tree   Tree
		brk    *ChainBreak
	)
	last, err := st.LastSequence(ctx)
	if err != nil {
		return rep, err
	}
	err = st.Read(ctx, ReadOptions{UpTo: last}, func(e *Envelope) error {
		if b := chains.Check(e); b != nil {
			brk = b
			return errStop
		}
		if e.AggregateKind == KindLedger {
			if problem, err := checkEmbeddedCheckpoint(e, &tree, st.Name(), trusted, true); err != nil {
				brk = &ChainBreak{Kind: "checkpoint-" + problem, AggregateID: e.AggregateID, Sequence: e.Sequence, EventID: e.ID, Reason: err.Error()}
				return errStop
			}
			rep.Checkpoints++
		}
		if err := tree.Add(e.Hash); err != nil {
			return err
		}
		rep.Events++
		rep.UpTo = e.Sequence
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return rep, err
	}
	rep.Aggregates = len(chains.Heads())
	rep.FirstBreak = brk
	rep.Intact = brk == nil
	if rep.Intact {
		rep.UpTo = last
	}
	return rep, nil
}
