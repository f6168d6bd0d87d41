package importer

import (
	"bytes"
	"io"
	"testing"
)

// FuzzTable: the CSV reader never panics, every row it returns has the header's width, and a
// refused row names a line.
func FuzzTable(f *testing.F) {
	for _, seed := range []string{
		"\ufeffid,email\r\n1,a@b.c\r\n", "a;b;c\n1;2;3\n\n4;5;6\n", "x\ty\n\"multi\nline\"\t2\n",
		"id,id\n1,2\n", "id,\"unterminated\n1,2\n", "", "\n\n\n", "a,b\n1\n1,2,3\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := newTable(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			rec, err := tab.next()
			if err == io.EOF {
				return
			}
			if re, ok := err.(*RowError); ok {
				if re.Line <= 0 {
					t.Fatalf("row error without a line: %+v", re)
				}
				continue
			}
			if err != nil {
				return
			}
			if len(rec.fields) != len(tab.header) {
				t.Fatalf("row of %d fields under a header of %d", len(rec.fields), len(tab.header))
			}
		}
	})
}
