package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/opdc/kpiledger/events"
)

// proofs measures what keeping the tree's tiles costs and gives: building
// them over the whole history, inclusion proofs of random events and
// consistency proofs between random sizes at the full size (p50/p99), and
// command appends while a tiles follower runs beside them, as a ratio to
// appends without it.
func (e *benchEnv) proofs(ctx context.Context) error {
	start := time.Now()
	tiles, err := events.OpenTilesFor(ctx, e.store)
	if err != nil {
		return err
	}
	if err := tiles.Sync(ctx); err != nil {
		return err
	}
	built := time.Since(start)
	size := tiles.Size()
	e.progress("tiles over %d events built in %.1fs (%.0f events/s)", size, built.Seconds(), float64(size)/built.Seconds())
	n := 20_000
	if e.cfg.Quick {
		n = 2_000
	}
	rng := rand.New(rand.NewPCG(e.cfg.Seed, 14))
	for _, kind := range []string{"inclusion", "consistency"} {
		var rounds []benchRoundResult
		for round := 1; round <= e.cfg.Rounds; round++ {
			var s benchSample
			t0 := time.Now()
			for range n {
				i := rng.Int64N(size)
				t := time.Now()
				var err error
				if kind == "inclusion" {
					_, err = tiles.ProveInclusion(i, size)
				} else {
					_, err = tiles.ProveConsistency(i+1, size)
				}
				if err != nil {
					return err
				}
				s.add(time.Since(t))
			}
			s.elapsed = time.Since(t0)
			r := s.result()
			rounds = append(rounds, r)
			e.progress("%s proofs round %d/%d at %d events: p50 %.3f ms, p99 %.3f ms", kind, round, e.cfg.Rounds, size, r.P50Ms, r.P99Ms)
		}
		f := &benchFigure{Key: "proof_" + kind, Title: fmt.Sprintf("%s proof at %s events (tlog from tiles)", kind, benchCount(float64(size))), show: "latency",
			Result: benchMedian(rounds), Rounds: rounds, Target: "p99 < 5 ms",
			Extra: map[string]any{"tiles_build_seconds": built.Seconds(), "tiles_build_rate": float64(size) / built.Seconds()}}
		f.Met = benchMet(f.Result.P99Ms < 5)
		e.report.Figures = append(e.report.Figures, f)
	}
	if e.runner == nil {
		// --only proofs: no read model to decide commands on.
		e.progress("append with tiles: skipped (needs the rebuild and serve phases)")
		return nil
	}
	return e.appendWithTiles(ctx, tiles)
}

// appendWithTiles times command appends with a tiles follower catching up
// every 50 ms (serve does so every second) against the same appends
// without it, alternating round by round.
func (e *benchEnv) appendWithTiles(ctx context.Context, tiles *events.Tiles) error {
	cmds := min(500, len(e.targets))
	if e.cfg.Quick {
		cmds = min(200, len(e.targets))
	}
	if cmds == 0 {
		return fmt.Errorf("no approved indicator to write to")
	}
	if err := e.ensureRawStream(ctx); err != nil {
		return err
	}
	var with, without []benchRoundResult
	for round := 1; round <= e.cfg.Rounds; round++ {
		o, _, err := e.appendRound(ctx, 1, e.targets[:cmds])
		if err != nil {
			return err
		}
		without = append(without, o)
		fctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var ferr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fctx.Err() == nil {
				if err := tiles.Sync(fctx); err != nil && fctx.Err() == nil {
					ferr = err
					return
				}
				select {
				case <-fctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		w, _, err := e.appendRound(ctx, 1, e.targets[:cmds])
		stop()
		wg.Wait()
		if err != nil {
			return err
		}
		if ferr != nil {
			return ferr
		}
		with = append(with, w)
		e.progress("append round %d/%d with a tiles follower: %.0f/s; without: %.0f/s", round, e.cfg.Rounds, w.Rate, o.Rate)
	}
	f := &benchFigure{Key: "append_with_tiles", Title: "command append, 1 writer, with a tiles follower (every 50 ms)", show: "rate",
		Result: benchMedian(with), Rounds: with,
		Raw:     &benchRaw{Title: "the same command appends with no tiles follower, alternating rounds", Result: benchMedian(without), Rounds: without},
		RatioOf: "rate", Target: "≥ 0.90× without"}
	f.Ratio = f.Result.Rate / f.Raw.Result.Rate
	f.Met = benchMet(f.Ratio >= 0.9)
	e.report.Figures = append(e.report.Figures, f)
	return nil
}
