package liquid

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// addTextFilters adds Customer.io's string filters: titlecase, slugify and pluralize.
func addTextFilters(set filterSet) {
	// titlecase upper-cases the first letter of every word and leaves the rest as written.
	set["titlecase"] = func(s string) string {
		var b strings.Builder
		start := true
		for _, r := range s {
			if start && unicode.IsLetter(r) {
				r = unicode.ToUpper(r)
			}
			start = unicode.IsSpace(r) || r == '-'
			b.WriteRune(r)
		}
		return b.String()
	}
	// slugify lower-cases and joins runs of letters and digits with single hyphens.
	set["slugify"] = func(s string) string {
		var b strings.Builder
		dash := false
		for _, r := range strings.ToLower(s) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				if dash && b.Len() > 0 {
					b.WriteByte('-')
				}
				dash = false
				b.WriteRune(r)
			} else {
				dash = true
			}
		}
		return b.String()
	}
	// pluralize is Customer.io's: the count, a space, and the singular or plural word
	// ({{ 3 | pluralize: "item" }} is "3 items"). The plural defaults to singular + "s".
	set["pluralize"] = func(count any, singular string, plural ...string) (string, error) {
		n, ok := toNumber(count)
		if !ok {
			return "", fmt.Errorf("%v is not a number", count)
		}
		word := singular + "s"
		if len(plural) > 0 && plural[0] != "" {
			word = plural[0]
		}
		if n == 1 {
			word = singular
		}
		return formatPlain(n) + " " + word, nil
	}
}

// addNumberFilters adds currency, rounded_currency and format_number.
func addNumberFilters(set filterSet) {
	// currency formats a number with two decimals, thousands separators and a symbol: "$"
	// by default, or the symbol for an ISO code (USD, EUR, GBP, JPY, …), or the argument as
	// written ({{ 1234.5 | currency }} is "$1,234.50"; {{ 9 | currency: "EUR" }} is "€9.00").
	set["currency"] = func(in any, unit ...string) (string, error) { return currency(in, unit, false) }
	set["rounded_currency"] = func(in any, unit ...string) (string, error) { return currency(in, unit, true) }
	// format_number: {{ 1234567.891 | format_number }} is "1,234,567.89". Arguments are the
	// decimals (default 2, or 0 for a whole number), the thousands delimiter (",") and the
	// decimal separator (".").
	set["format_number"] = func(in any, args ...any) (string, error) {
		n, ok := toNumber(in)
		if !ok {
			return "", fmt.Errorf("%v is not a number", in)
		}
		decimals := 2
		if n == math.Trunc(n) {
			decimals = 0
		}
		if len(args) > 0 && args[0] != nil {
			d, ok := toNumber(args[0])
			if !ok || d < 0 || d > 20 {
				return "", fmt.Errorf("decimals must be a number from 0 to 20, not %v", args[0])
			}
			decimals = int(d)
		}
		delim, sep := ",", "."
		if len(args) > 1 && args[1] != nil {
			delim = fmt.Sprint(args[1])
		}
		if len(args) > 2 && args[2] != nil {
			sep = fmt.Sprint(args[2])
		}
		return groupDigits(n, decimals, delim, sep), nil
	}
}

// currencySymbols are the symbols for the ISO codes currency knows; decimals is 0 for the
// currencies without minor units.
var currencySymbols = map[string]struct {
	symbol   string
	decimals int
}{
	"USD": {"$", 2}, "EUR": {"€", 2}, "GBP": {"£", 2}, "JPY": {"¥", 0}, "CAD": {"CA$", 2},
	"AUD": {"A$", 2}, "NZD": {"NZ$", 2}, "CHF": {"CHF ", 2}, "INR": {"₹", 2}, "CNY": {"CN¥", 2},
	"BRL": {"R$", 2}, "MXN": {"MX$", 2}, "SEK": {"SEK ", 2}, "KRW": {"₩", 0},
}

func currency(in any, unit []string, rounded bool) (string, error) {
	n, ok := toNumber(in)
	if !ok {
		return "", fmt.Errorf("%v is not a number", in)
	}
	symbol, decimals := "$", 2
	if len(unit) > 0 && unit[0] != "" {
		if c, ok := currencySymbols[strings.ToUpper(unit[0])]; ok {
			symbol, decimals = c.symbol, c.decimals
		} else {
			symbol = unit[0]
		}
	}
	if rounded {
		decimals = 0
	}
	s := groupDigits(math.Abs(n), decimals, ",", ".")
	if n < 0 && strings.Trim(s, "0.,") != "" {
		return "-" + symbol + s, nil
	}
	return symbol + s, nil
}

// groupDigits formats n with decimals places, delim between thousands and sep before the
// decimals.
func groupDigits(n float64, decimals int, delim, sep string) string {
	p := math.Pow10(decimals)
	if r := math.Round(math.Abs(n)*p) / p; !math.IsInf(r, 0) && !math.IsNaN(r) {
		n = math.Copysign(r, n) // half away from zero, as people expect money to round
	}
	s := strconv.FormatFloat(math.Abs(n), 'f', decimals, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if n < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (utf8.RuneCountInString(whole)-i)%3 == 0 {
			b.WriteString(delim)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(sep)
		b.WriteString(frac)
	}
	return b.String()
}

// formatPlain formats a number as Liquid outputs it: no exponent, no trailing zeros.
func formatPlain(n float64) string {
	return strconv.FormatFloat(n, 'f', -1, 64)
}
