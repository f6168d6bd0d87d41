package store

import (
	"database/sql/driver"
	"encoding/json"
	"strings"
	"sync"

	"github.com/heraldhq/herald"
	"modernc.org/sqlite"
)

var registerOnce sync.Once

// registerSQLiteFuncs gives the embedded SQLite the two functions the segment compiler needs
// and SQLite lacks, implemented by the same Go code as the in-memory evaluator so that both
// agree exactly (PostgreSQL defines herald_num in its migration and has a Unicode lower()):
//
//	herald_num(json)  the number a JSON value (its text, as `->` returns it) is written as, or NULL
//	herald_lower(text) Unicode lower case
func registerSQLiteFuncs() {
	registerOnce.Do(func() {
		must(sqlite.RegisterDeterministicScalarFunction("herald_num", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			var s string
			switch v := args[0].(type) {
			case string:
				s = v
			case []byte:
				s = string(v)
			case int64:
				return float64(v), nil
			case float64:
				return v, nil
			default:
				return nil, nil
			}
			if f, ok := herald.ParseNumber(herald.ValueString(json.RawMessage(s))); ok {
				return f, nil
			}
			return nil, nil
		}))
		must(sqlite.RegisterDeterministicScalarFunction("herald_lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return strings.ToLower(v), nil
			case []byte:
				return strings.ToLower(string(v)), nil
			case nil:
				return nil, nil
			default:
				return v, nil
			}
		}))
	})
}

func must(err error) {
	if err != nil {
		panic("register SQLite function: " + err.Error())
	}
}
