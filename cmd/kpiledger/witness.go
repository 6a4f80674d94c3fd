package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/domain"
	"github.com/opdc/kpiledger/events"
)

// witnessState is what a witness remembers on disk: the last checkpoint it
// cosigned (the ledger's signed note).
type witnessState struct {
	Checkpoint string `json:"checkpoint"`
}

func runWitness(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("witness --url URL --log-key KEY --key-file FILE --state FILE [--once | --every D] | witness --generate NAME --key-file FILE",
		"A witness, run by someone other than the ledger's operator (OAG, NESDC) with its own key.\nIt fetches the ledger's latest checkpoint, checks the ledger's signature, and checks\nthat the tree only grew since the last checkpoint it cosigned (a consistency proof);\nthen it cosigns (c2sp.org/tlog-cosignature) and hands the cosignature back to the ledger.\nA fork (another tree of the same size, or a tree that does not extend the last one) or a\nrollback (a smaller tree) is refused: the witness says so and exits 1, cosigning nothing.\n--generate makes a key pair and prints the verifier key auditors pin with verify --witness.", stderr)
	base := fs.String("url", envOr(getenv, "KPILEDGER_URL", "http://127.0.0.1:8080"), "the ledger's base URL (env KPILEDGER_URL)")
	logKey := fs.String("log-key", getenv("KPILEDGER_LOG_KEY"), "the ledger's verifier key (kpiledger verify --key) (env KPILEDGER_LOG_KEY)")
	keyFile := fs.String("key-file", "witness.key", "the witness's private key file")
	stateFile := fs.String("state", "witness.state", "where the witness keeps the last checkpoint it cosigned")
	generate := fs.String("generate", "", "make a key pair for a witness of this name (e.g. oag.go.th/witness), write it to --key-file, print the verifier key")
	once := fs.Bool("once", false, "witness one checkpoint and exit")
	every := fs.Duration("every", time.Minute, "how often to fetch the latest checkpoint")
	token := fs.String("token", getenv("KPILEDGER_TOKEN"), "an auditor bearer token (env KPILEDGER_TOKEN)")
	dataDir := fs.String("data-dir", "", "mint an auditor token with the key of this data directory instead of --token (tests, a single machine)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *generate != "" {
		skey, vkey, err := events.GenerateCosignerKey(*generate, rand.Reader)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(*keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("witness key: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(skey + "\n"); err != nil {
			return err
		}
		fmt.Fprintln(stdout, vkey)
		return f.Sync()
	}
	if *logKey == "" {
		return errors.New("--log-key is required: the ledger's verifier key, from kpiledger verify --key")
	}
	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("witness key: %w (make one with --generate)", err)
	}
	signer, err := events.NewCosigner(string(raw), nil)
	if err != nil {
		return err
	}
	if *token == "" && *dataDir != "" {
		key, err := api.LoadTokenKey(*dataDir, getenv)
		if err != nil {
			return err
		}
		if *token, err = api.IssueToken(key, api.Principal{Subject: "witness-" + signer.Name(), Role: domain.RoleAuditor}, 24*time.Hour, time.Now()); err != nil {
			return err
		}
	}
	w := &witness{base: strings.TrimRight(*base, "/"), logKey: *logKey, signer: signer, state: *stateFile, token: *token, out: stdout}
	for {
		err := w.round(ctx)
		var refused *witnessRefusal
		if errors.As(err, &refused) {
			fmt.Fprintf(stdout, "REFUSED: %v\n", refused)
			return exitCode(1)
		}
		if *once {
			return err
		}
		if err != nil {
			fmt.Fprintf(stderr, "witness: %v (trying again in %s)\n", err, *every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*every):
		}
	}
}

// witnessRefusal is a checkpoint the witness will not cosign.
type witnessRefusal struct{ kind, reason string }

func (r *witnessRefusal) Error() string { return r.kind + ": " + r.reason }

type witness struct {
	base, logKey, state, token string
	signer                     *events.Cosigner
	out                        io.Writer
}

// round fetches the latest checkpoint and cosigns it if the log only grew.
func (w *witness) round(ctx context.Context) error {
	signed, err := w.get(ctx, "/v1/checkpoints/latest")
	if err != nil {
		return err
	}
	text, err := events.OpenNote(string(signed), w.logKey)
	if err != nil {
		return &witnessRefusal{"bad signature", fmt.Sprintf("the ledger's latest checkpoint does not verify with its key: %v", err)}
	}
	cp, err := events.ParseCheckpoint(text)
	if err != nil {
		return &witnessRefusal{"malformed", err.Error()}
	}
	var st witnessState
	if b, err := os.ReadFile(w.state); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("witness state %s: %w", w.state, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if st.Checkpoint != "" {
		ptext, err := events.OpenNote(st.Checkpoint, w.logKey)
		if err != nil {
			return fmt.Errorf("witness state %s: %w", w.state, err)
		}
		prev, err := events.ParseCheckpoint(ptext)
		if err != nil {
			return fmt.Errorf("witness state %s: %w", w.state, err)
		}
		switch {
		case prev.Origin != cp.Origin:
			return &witnessRefusal{"fork", fmt.Sprintf("the ledger now signs log %q, but this witness follows %q", cp.Origin, prev.Origin)}
		case cp.Size < prev.Size:
			return &witnessRefusal{"rollback", fmt.Sprintf("the ledger's latest checkpoint holds %d events, but this witness already cosigned %d: the log was rolled back", cp.Size, prev.Size)}
		case cp.Size == prev.Size && ptext != text:
			return &witnessRefusal{"fork", fmt.Sprintf("two different checkpoints of the same size %d: the log was forked", cp.Size)}
		case cp.Size == prev.Size:
			fmt.Fprintf(w.out, "checkpoint %d already cosigned\n", cp.Size)
			return w.post(ctx, cp.Size, string(signed))
		}
		body, err := w.get(ctx, fmt.Sprintf("/v1/proofs/consistency?%s", url.Values{"from": {fmt.Sprint(prev.Size)}, "to": {fmt.Sprint(cp.Size)}}.Encode()))
		if err != nil {
			return err
		}
		var p events.ConsistencyProof
		if err := json.Unmarshal(body, &p); err != nil {
			return fmt.Errorf("consistency proof: %w", err)
		}
		// Only the hashes are taken from the ledger; the roots are the
		// two signed checkpoints'.
		if err := events.CheckConsistency(p.Hashes, prev, cp); err != nil {
			return &witnessRefusal{"fork", fmt.Sprintf("the checkpoint of %d events does not extend the one of %d this witness cosigned: %v", cp.Size, prev.Size, err)}
		}
	}
	// Remember before cosigning: a witness never cosigns what it would
	// not remember after a crash.
	b, _ := json.Marshal(witnessState{Checkpoint: string(signed)})
	tmp := w.state + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Clean(w.state)); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "cosigned checkpoint %d (%s)\n", cp.Size, cp.Origin)
	return w.post(ctx, cp.Size, string(signed))
}

// post hands the cosigned checkpoint back to the ledger.
func (w *witness) post(ctx context.Context, size uint64, signed string) error {
	cosigned, err := w.signer.Cosign(signed)
	if err != nil {
		return err
	}
	u := fmt.Sprintf("%s/v1/checkpoints/%d/cosignatures?%s", w.base, size, url.Values{"key": {w.signer.VerifierKey()}}.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(cosigned))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	return w.do(req, nil)
}

func (w *witness) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		return nil, err
	}
	var body []byte
	return body, w.do(req, &body)
}

func (w *witness) do(req *http.Request, body *[]byte) error {
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, res.Status, b)
	}
	if body != nil {
		*body = b
	}
	return nil
}
