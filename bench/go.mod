module github.com/skein-go/skein/bench

go 1.26.0

require github.com/skein-go/skein v0.0.0

require (
	github.com/alitto/pond/v2 v2.7.1 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/panjf2000/ants/v2 v2.12.1 // indirect
	github.com/petermattis/goid v0.0.0-20250813065127-a731cc31b4fe // indirect
	github.com/sasha-s/go-deadlock v0.3.9 // indirect
	github.com/sourcegraph/conc v0.3.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
)

replace github.com/skein-go/skein => ../
