package events

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opdc/kpiledger/domain"
)

// Event type names. They are part of the log's format: never rename one;
// add a new name or a new schema version instead.
const (
	TypeFrameworkPublished   = "framework.published"
	TypeFrameworkRevised     = "framework.revised"
	TypeDepartmentRegistered = "unit.department_registered"
	TypeIndicatorProposed    = "indicator.proposed"
	TypeIndicatorRevised     = "indicator.revised"
	TypeIndicatorReviewed    = "indicator.reviewed"
	TypeIndicatorWithdrawn   = "indicator.withdrawn"
	TypeResultReported       = "indicator.result_reported"
	TypeResultVerified       = "indicator.result_verified"
	TypeSeriesDefined        = "series.defined"
	TypeInnovationProposed   = "innovation.proposed"
	TypeInnovationSelected   = "innovation.selected"
	TypeInnovationReviewed   = "innovation.reviewed"
	TypeCheckpointRecorded   = "ledger.checkpoint_recorded"
)

// Aggregate kinds; each has its own branch of the subject tree.
const (
	KindFramework  = "framework"
	KindUnit       = "unit"
	KindIndicator  = "indicator"
	KindSeries     = "series"
	KindInnovation = "innovation"
	KindLedger     = "ledger"
)

// Describe names a domain event: its type, the schema version written
// today, and the kind of aggregate it belongs to.
func Describe(e domain.Event) (typ string, schema int, kind string) {
	return describeType(typeOf(e))
}

func typeOf(e domain.Event) string {
	switch e.(type) {
	case domain.FrameworkPublished:
		return TypeFrameworkPublished
	case domain.FrameworkRevised:
		return TypeFrameworkRevised
	case domain.DepartmentRegistered:
		return TypeDepartmentRegistered
	case domain.IndicatorProposed:
		return TypeIndicatorProposed
	case domain.IndicatorRevised:
		return TypeIndicatorRevised
	case domain.IndicatorReviewed:
		return TypeIndicatorReviewed
	case domain.IndicatorWithdrawn:
		return TypeIndicatorWithdrawn
	case domain.ResultReported:
		return TypeResultReported
	case domain.ResultVerified:
		return TypeResultVerified
	case domain.SeriesDefined:
		return TypeSeriesDefined
	case domain.InnovationProposed:
		return TypeInnovationProposed
	case domain.InnovationSelected:
		return TypeInnovationSelected
	case domain.InnovationReviewed:
		return TypeInnovationReviewed
	case domain.CheckpointRecorded:
		return TypeCheckpointRecorded
	}
	panic(fmt.Sprintf("events: %T is not in the catalogue", e))
}

// Decode turns an envelope's data into its domain event, upcasting older
// schema versions on the way. The stored bytes are never rewritten.
func Decode(typ string, schema int, data []byte) (domain.Event, error) {
	data, err := upcast(typ, schema, data)
	if err != nil {
		return nil, err
	}
	if ev, ok := decodePayload(typ, data); ok {
		return ev, nil
	}
	switch typ {
	case TypeFrameworkPublished:
		return decodeAs[domain.FrameworkPublished](data)
	case TypeFrameworkRevised:
		return decodeAs[domain.FrameworkRevised](data)
	case TypeDepartmentRegistered:
		return decodeAs[domain.DepartmentRegistered](data)
	case TypeIndicatorProposed:
		return decodeAs[domain.IndicatorProposed](data)
	case TypeIndicatorRevised:
		return decodeAs[domain.IndicatorRevised](data)
	case TypeIndicatorReviewed:
		return decodeAs[domain.IndicatorReviewed](data)
	case TypeIndicatorWithdrawn:
		return decodeAs[domain.IndicatorWithdrawn](data)
	case TypeResultReported:
		return decodeAs[domain.ResultReported](data)
	case TypeResultVerified:
		return decodeAs[domain.ResultVerified](data)
	case TypeSeriesDefined:
		return decodeAs[domain.SeriesDefined](data)
	case TypeInnovationProposed:
		return decodeAs[domain.InnovationProposed](data)
	case TypeInnovationSelected:
		return decodeAs[domain.InnovationSelected](data)
	case TypeInnovationReviewed:
		return decodeAs[domain.InnovationReviewed](data)
	case TypeCheckpointRecorded:
		return decodeAs[domain.CheckpointRecorded](data)
	}
	return nil, fmt.Errorf("unknown event type %q", typ)
}

func decodeAs[T domain.Event](data []byte) (domain.Event, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}

// upcast brings data of an older schema version to the current one.
func upcast(typ string, schema int, data []byte) ([]byte, error) {
	_, current, _ := describeType(typ)
	if current == 0 {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	if schema < 1 || schema > current {
		return nil, fmt.Errorf("%s: schema version %d is not known (this build reads 1 to %d)", typ, schema, current)
	}
	for v := schema; v < current; v++ {
		var err error
		switch {
		case typ == TypeResultReported && v == 1:
			data, err = upcastResultReportedV1(data)
		default:
			err = fmt.Errorf("%s: no upcaster from schema %d", typ, v)
		}
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

// upcastResultReportedV1: schema 1 of a result report carried its evidence
// as one newline-separated string; schema 2 carries a list of items.
func upcastResultReportedV1(data []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("upcast %s v1: %w", TypeResultReported, err)
	}
	if raw, ok := m["evidence"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("upcast %s v1: evidence: %w", TypeResultReported, err)
		}
		var items []string
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				items = append(items, line)
			}
		}
		if len(items) == 0 {
			delete(m, "evidence")
		} else {
			b, _ := json.Marshal(items)
			m["evidence"] = b
		}
	}
	return json.Marshal(m)
}

// describeType is the one table of current schema versions and aggregate
// kinds; it returns schema 0 for an unknown type.
func describeType(typ string) (string, int, string) {
	switch typ {
	case TypeFrameworkPublished, TypeFrameworkRevised:
		return typ, 1, KindFramework
	case TypeDepartmentRegistered:
		return typ, 1, KindUnit
	case TypeIndicatorProposed, TypeIndicatorRevised, TypeIndicatorReviewed, TypeIndicatorWithdrawn, TypeResultVerified:
		return typ, 1, KindIndicator
	case TypeResultReported:
		return typ, 2, KindIndicator
	case TypeSeriesDefined:
		return typ, 1, KindSeries
	case TypeInnovationProposed, TypeInnovationSelected, TypeInnovationReviewed:
		return typ, 1, KindInnovation
	case TypeCheckpointRecorded:
		return typ, 1, KindLedger
	}
	return typ, 0, ""
}
