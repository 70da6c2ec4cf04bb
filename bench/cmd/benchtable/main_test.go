package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const sample = `goos: linux
BenchmarkPoolX/chanpool-2   	 100	 500 ns/op	 50 ns/task	 0 allocs/task
BenchmarkPoolX/skein-2      	 100	 600 ns/op	 60 ns/task	 0 allocs/task
BenchmarkPoolX/chanpool-2   	 100	 700 ns/op	 70 ns/task	 0 allocs/task
BenchmarkPoolX/skein-2      	 100	 400 ns/op	 40 ns/task	 1 allocs/task
BenchmarkPoolX/chanpool-2   	 100	 600 ns/op	 60 ns/task	 0 allocs/task
PASS
`

func TestParseGroupsRoundsByRowAndContender(t *testing.T) {
	rows, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].name != "BenchmarkPoolX" || len(rows[0].contenders) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	tests := []struct {
		contender string
		unit      string
		want      float64
	}{
		{"chanpool", "ns/task", 60}, // odd count: the middle value
		{"skein", "ns/task", 50},    // even count: the mean of the middle two
		{"skein", "allocs/task", 0.5},
	}
	for _, tt := range tests {
		got, ok := rows[0].contender(tt.contender).median(tt.unit)
		if !ok || got != tt.want {
			t.Errorf("median %s %s = %v, %v; want %v", tt.contender, tt.unit, got, ok, tt.want)
		}
	}
}

func TestWriteComparesSkeinWithEachContender(t *testing.T) {
	rows, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rows[0].write(&b)
	out := b.String()
	for _, want := range []string{"| contender | runs | ns/task | spread | allocs/task | skein ÷ x |", "| chanpool | 3 | 60 |", "| 0.83 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteLeavesPairedRowsTheirOwnRatio(t *testing.T) {
	rows, err := parse(strings.NewReader("BenchmarkPoolY/a-2 10 5 ns/task 0.8 skein/x\nBenchmarkPoolY/skein-2 10 4 ns/task\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rows[0].write(&b)
	out := b.String()
	if !strings.Contains(out, "| a | 1 | 5 | ±0% | 0.8 |") || strings.Contains(out, "÷") {
		t.Errorf("want the paired column and no computed ratio:\n%s", out)
	}
}

func TestParseRejectsABadValue(t *testing.T) {
	if _, err := parse(strings.NewReader("BenchmarkPoolX/a-2 10 x1 ns/op\n")); err == nil {
		t.Fatal("parse accepted a non-numeric value")
	}
}
