package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/store"
)

// ingestOps builds batch n of the ingest mix: 60 % person identify, 20 % object identify with
// one relationship, 20 % events.
func ingestOps(n, size int) []herald.Op {
	ops := make([]herald.Op, 0, size)
	for i := 0; i < size; i++ {
		k := n*size + i
		switch i % 5 {
		case 0, 1, 2:
			ops = append(ops, &herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByID, Value: fmt.Sprintf("p%d", k)},
				Attributes: herald.Attributes{"email": json.RawMessage(fmt.Sprintf(`"p%d@example.com"`, k)), "plan": json.RawMessage(`"pro"`), "n": json.RawMessage(fmt.Sprint(k))}})
		case 3:
			ops = append(ops, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: fmt.Sprintf("acc%d", k)},
				Attributes: herald.Attributes{"name": json.RawMessage(`"Acme"`), "portfolio_amount": json.RawMessage(fmt.Sprint(k % 20000))},
				People:     []herald.ObjectRelationship{{Person: herald.PersonRef{Kind: herald.ByID, Value: fmt.Sprintf("p%d", k-1)}, Attributes: herald.Attributes{"user_role": json.RawMessage(`"admin"`)}}}})
		default:
			ops = append(ops, &herald.TrackEvent{Event: herald.Event{Person: herald.PersonRef{Kind: herald.ByID, Value: fmt.Sprintf("p%d", k-2)}, Name: "purchase",
				Data: json.RawMessage(fmt.Sprintf(`{"amount":%d}`, k%100))}})
		}
	}
	return ops
}

func BenchmarkApply(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			dsn := ""
			if engine == "postgres" {
				dsn = testdb.PostgresDSN(b)
			}
			s := MustOpen(b, dsn)
			ctx := context.Background()
			ws, _, _ := s.DefaultWorkspace(ctx, herald.Workspace{})
			s.CreateObjectType(ctx, ws.ID, herald.ObjectType{Name: "Accounts"})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				errs, err := s.Apply(ctx, ws.ID, ingestOps(i, 100))
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range errs {
					if e != nil {
						b.Fatal(e)
					}
				}
			}
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "entities/s")
		})
	}
}

var _ = store.Open
