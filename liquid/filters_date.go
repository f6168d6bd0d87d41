package liquid

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // time zones must not depend on the host's zoneinfo

	"github.com/osteele/liquid/values"
	"github.com/osteele/tuesday"
)

// defaultDateFormat is used when | date has no format.
const defaultDateFormat = "%a, %b %d, %y"

// addDateFilters adds date, timezone and Customer.io's date math: add_minute, add_hour,
// add_day, add_week, add_month, add_year and their subtract_ counterparts. Dates are accepted
// as unix seconds (number or numeric string), ISO 8601 / RFC 3339 strings, "now" and "today";
// date math returns unix seconds, as Customer.io's does, so it chains into | date.
func addDateFilters(set filterSet) {
	set["date"] = dateFilter
	set["timezone"] = func(in any, zone string) (time.Time, error) {
		t, err := toTime(in)
		if err != nil {
			return time.Time{}, err
		}
		loc, err := location(zone)
		if err != nil {
			return time.Time{}, err
		}
		return t.In(loc), nil
	}
	units := map[string]func(time.Time, int) time.Time{
		"minute": func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Minute) },
		"hour":   func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Hour) },
		"day":    func(t time.Time, n int) time.Time { return t.AddDate(0, 0, n) },
		"week":   func(t time.Time, n int) time.Time { return t.AddDate(0, 0, 7*n) },
		"month":  func(t time.Time, n int) time.Time { return t.AddDate(0, n, 0) },
		"year":   func(t time.Time, n int) time.Time { return t.AddDate(n, 0, 0) },
	}
	for unit, add := range units {
		set["add_"+unit] = dateMath(add, 1)
		set["subtract_"+unit] = dateMath(add, -1)
	}
}

func dateMath(add func(time.Time, int) time.Time, sign int) func(any, ...any) (int64, error) {
	return func(in any, args ...any) (int64, error) {
		t, err := toTime(in)
		if err != nil {
			return 0, err
		}
		n := 1
		if len(args) > 0 {
			f, ok := toNumber(args[0])
			if !ok || f != math.Trunc(f) || math.Abs(f) > 1e6 {
				return 0, fmt.Errorf("the amount must be a whole number, not %v", args[0])
			}
			n = int(f)
		}
		return add(t, sign*n).Unix(), nil
	}
}

// dateFilter formats a date with a strftime format, in the named time zone when one is given
// ({{ x | date: "%B %d, %Y %I:%M %p", "America/New_York" }}), else in the date's own zone
// (UTC unless it came from | timezone).
func dateFilter(in any, args ...any) (string, error) {
	t, err := toTime(in)
	if err != nil {
		return "", err
	}
	format := defaultDateFormat
	if len(args) > 0 && args[0] != nil {
		format = fmt.Sprint(args[0])
	}
	if len(args) > 1 && args[1] != nil {
		loc, err := location(fmt.Sprint(args[1]))
		if err != nil {
			return "", err
		}
		t = t.In(loc)
	}
	f, err := formatter(format)
	if err != nil {
		return "", err
	}
	return f.Format(t), nil
}

// formatters caches compiled strftime formats: templates use a handful, and compiling one
// costs more than formatting with it. Past maxFormatters formats are compiled per use.
var formatters sync.Map // string -> *tuesday.Formatter

var formatterCount atomic.Int32

const maxFormatters = 512

func formatter(format string) (*tuesday.Formatter, error) {
	if f, ok := formatters.Load(format); ok {
		return f.(*tuesday.Formatter), nil
	}
	f, err := tuesday.Compile(format)
	if err != nil {
		return nil, err
	}
	if formatterCount.Load() < maxFormatters {
		formatterCount.Add(1)
		formatters.Store(format, f)
	}
	return f, nil
}

func location(zone string) (*time.Location, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", zone)
	}
	return loc, nil
}

// toTime reads a date as Customer.io stores them: unix seconds, or a date string.
func toTime(in any) (time.Time, error) {
	switch v := in.(type) {
	case time.Time:
		return v, nil
	case nil:
		return time.Time{}, fmt.Errorf("no date given (nil)")
	case string:
		s := strings.TrimSpace(v)
		switch strings.ToLower(s) {
		case "now", "today":
			return time.Now().UTC(), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return unix(f), nil
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		t, err := values.ParseDate(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date", s)
		}
		return t.UTC(), nil
	}
	if f, ok := toNumber(in); ok {
		return unix(f), nil
	}
	return time.Time{}, fmt.Errorf("%v is not a date", in)
}

func unix(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// toNumber reads a number from a Go number or a numeric string.
func toNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case fmt.Stringer: // json.Number
		f, err := strconv.ParseFloat(v.String(), 64)
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}
