package gather

import (
	"errors"
	"slices"
	"testing"

	"github.com/skein-go/skein/pool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBad = errors.New("bad input")

func results(rs ...pool.Result[int]) []pool.Result[int] { return rs }

func TestSlice(t *testing.T) {
	mixed := results(
		pool.Result[int]{Index: 2, Value: 30},
		pool.Result[int]{Index: 0, Value: 10},
		pool.Result[int]{Index: 1, Err: errBad},
	)
	tests := []struct {
		name    string
		in      []pool.Result[int]
		n       int
		mode    pool.ErrorMode
		want    []int
		wantErr string
	}{
		{"all ok, any order", results(pool.Result[int]{Index: 1, Value: 2}, pool.Result[int]{Index: 0, Value: 1}), 2, pool.FirstError, []int{1, 2}, ""},
		{"first error stops", mixed, 3, pool.FirstError, nil, "proc: input 1: bad input"},
		{"all errors keeps going", mixed, 3, pool.AllErrors, []int{10, 0, 30}, "proc: input 1: bad input"},
		{"whole-map error", results(pool.Result[int]{Index: -1, Err: errBad}), 1, pool.AllErrors, nil, "bad input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Slice(slices.Values(tt.in), tt.n, tt.mode, "proc")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.wantErr != "" && !errors.Is(err, errBad) {
				t.Fatalf("err %v does not wrap the input's error", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Slice = %v, want %v", got, tt.want)
			}
		})
	}
}
