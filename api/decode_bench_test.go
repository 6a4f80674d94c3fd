package api

import (
	"strings"
	"testing"

	"github.com/opdc/kpiledger/domain"
)

// BenchmarkDecodeMillionDigitTarget: a proposal whose target has a million
// digits is refused by decode on its length, before any arithmetic and
// outside the read model's lock (it took 3 s in big.Rat under the lock).
func BenchmarkDecodeMillionDigitTarget(b *testing.B) {
	body := []byte(`{"component":"function","title_th":"ก","measure":"ร้อยละ","direction":"up","weight":1,"targets":[1` + strings.Repeat("0", 1_040_000) + `,2,3]}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var spec domain.IndicatorSpec
		if decodeStrict(body, &spec) == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkValidateWidestNumbers: the widest numbers decode accepts (30
// digits, exponent ±30) cost the domain's exact checks (magnitude,
// decimal places) microseconds.
func BenchmarkValidateWidestNumbers(b *testing.B) {
	ind := &domain.Indicator{Status: domain.StatusApproved}
	fw := &domain.Framework{Rounds: []int{12}}
	bodies := [][]byte{
		[]byte(`{"round":12,"actual":123456789012345678901234567890e30}`),
		[]byte(`{"round":12,"actual":0.00000000000000000000000000001e-30}`),
	}
	for b.Loop() {
		for _, body := range bodies {
			var r ResultBody
			if err := decodeStrict(body, &r); err != nil {
				b.Fatal(err)
			}
			if _, err := ind.Report(domain.ResultReported{Round: r.Round, Actual: r.Actual}, fw); err == nil {
				b.Fatal("accepted")
			}
		}
	}
}
