package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skein-go/skein/lock"
)

func init() {
	register(Demo{
		Name:    "bank",
		Summary: "the seed's BankAccount: concurrent transfers in cents, ordered locking, money conserved, bad amounts rejected",
		Run:     bankDemo,
	})
}

// Errors of the bank demo, for errors.Is.
var (
	errBankNonPositive  = errors.New("bank: amount must be positive")
	errBankInsufficient = errors.New("bank: insufficient funds")
)

// bankAccount is the seed's BankAccount with money in integer cents (never
// floats: 0.1 + 0.2 dollars is not 0.3 dollars in binary floating point).
//
// The seed makes its lock reentrant so that transfer, holding both
// accounts' locks, can call the public withdraw and deposit, which lock
// again. Idiomatic Go splits each operation instead: the exported method
// takes the lock and calls an unexported ...Locked helper that expects it
// held, and code that holds the lock already calls the helpers directly.
type bankAccount struct {
	id      int
	mu      *lock.Mutex // guards balance
	balance int64       // cents
}

func newBankAccount(id int, cents int64, checker *lock.Checker) *bankAccount {
	return &bankAccount{id: id, mu: lock.NewMutex(lock.WithChecker(checker), lock.WithName("account")), balance: cents}
}

// Balance returns the balance in cents.
func (a *bankAccount) Balance(ctx context.Context) (int64, error) {
	if err := a.mu.Lock(ctx); err != nil {
		return 0, err
	}
	defer a.mu.Unlock()
	return a.balance, nil
}

// Deposit adds cents and returns the new balance.
func (a *bankAccount) Deposit(ctx context.Context, cents int64) (int64, error) {
	if cents <= 0 {
		return 0, fmt.Errorf("deposit %d cents: %w", cents, errBankNonPositive)
	}
	if err := a.mu.Lock(ctx); err != nil {
		return 0, err
	}
	defer a.mu.Unlock()
	return a.depositLocked(cents), nil
}

// Withdraw takes cents out and returns the new balance.
func (a *bankAccount) Withdraw(ctx context.Context, cents int64) (int64, error) {
	if cents <= 0 {
		return 0, fmt.Errorf("withdraw %d cents: %w", cents, errBankNonPositive)
	}
	if err := a.mu.Lock(ctx); err != nil {
		return 0, err
	}
	defer a.mu.Unlock()
	return a.withdrawLocked(cents)
}

// depositLocked adds cents; a.mu must be held and cents be positive.
func (a *bankAccount) depositLocked(cents int64) int64 {
	a.balance += cents
	return a.balance
}

// withdrawLocked takes cents out unless that would overdraw; a.mu must be
// held and cents be positive.
func (a *bankAccount) withdrawLocked(cents int64) (int64, error) {
	if cents > a.balance {
		return a.balance, fmt.Errorf("withdraw %d cents from account %d holding %d: %w", cents, a.id, a.balance, errBankInsufficient)
	}
	a.balance -= cents
	return a.balance, nil
}

// bankTransfer moves cents from one account to another. lock.All takes both
// locks in one global order whatever the argument order, so a transfer
// a→b and a transfer b→a running together cannot deadlock; with both held,
// the helpers do the work, and the transfer happens entirely or not at all.
func bankTransfer(ctx context.Context, from, to *bankAccount, cents int64) error {
	if cents <= 0 {
		return fmt.Errorf("transfer %d cents: %w", cents, errBankNonPositive)
	}
	held, err := lock.All(ctx, from.mu, to.mu)
	if err != nil {
		return err
	}
	defer held.Unlock()
	if _, err := from.withdrawLocked(cents); err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	to.depositLocked(cents)
	return nil
}

// bankTotal sums every balance while holding every lock, so the sum is a
// consistent snapshot even if transfers were still running.
func bankTotal(ctx context.Context, accounts []*bankAccount) (int64, error) {
	locks := make([]*lock.Mutex, len(accounts))
	for i, a := range accounts {
		locks[i] = a.mu
	}
	held, err := lock.All(ctx, locks...)
	if err != nil {
		return 0, err
	}
	defer held.Unlock()
	var total int64
	for _, a := range accounts {
		if a.balance < 0 {
			return 0, fmt.Errorf("account %d is overdrawn: %d cents", a.id, a.balance)
		}
		total += a.balance
	}
	return total, nil
}

func bankDemo(ctx context.Context, w io.Writer) (string, error) {
	const (
		nAccounts  = 10
		opening    = 1_000_00 // $1,000.00 in cents
		goroutines = 8
		perEach    = 20_000
	)
	// Every account lock is watched by a lock-order checker, which would
	// report a potential deadlock the first time locks were taken in an
	// order that could hang.
	var reports []lock.Report
	var reportsMu sync.Mutex
	checker, err := lock.NewChecker(lock.WithReport(func(r lock.Report) {
		reportsMu.Lock()
		defer reportsMu.Unlock()
		reports = append(reports, r)
	}))
	if err != nil {
		return "", err
	}
	accounts := make([]*bankAccount, nAccounts)
	for i := range accounts {
		accounts[i] = newBankAccount(i, opening, checker)
	}

	if err := bankCheckRejections(ctx, w, accounts[0], accounts[1]); err != nil {
		return "", err
	}

	// Random transfers in both directions from many goroutines; some ask
	// for more than the payer has and must be refused.
	var done, refused atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 42))
			for range perEach {
				from, to := accounts[r.IntN(nAccounts)], accounts[r.IntN(nAccounts)]
				err := bankTransfer(ctx, from, to, 1+r.Int64N(opening/2))
				switch {
				case err == nil:
					done.Add(1)
				case errors.Is(err, errBankInsufficient):
					refused.Add(1)
				default:
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return "", err
	}
	elapsed := time.Since(start)
	total, err := bankTotal(ctx, accounts)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "%d goroutines made %d transfers among %d accounts in %v (%.1f M/s): %d done, %d refused for insufficient funds\n",
		goroutines, goroutines*perEach, nAccounts, elapsed.Round(time.Millisecond),
		float64(goroutines*perEach)/elapsed.Seconds()/1e6, done.Load(), refused.Load())
	if total != nAccounts*opening {
		return "", fmt.Errorf("money not conserved: total %d cents, want %d", total, nAccounts*opening)
	}
	if refused.Load() == 0 || done.Load() == 0 {
		return "", fmt.Errorf("expected both done and refused transfers, got %d and %d", done.Load(), refused.Load())
	}
	fmt.Fprintf(w, "total after the transfers: %s, as at the start\n", bankDollars(total))

	if err := bankReentrantDemo(ctx, w); err != nil {
		return "", err
	}

	reportsMu.Lock()
	clean := len(reports)
	reportsMu.Unlock()
	if clean != 0 {
		return "", fmt.Errorf("lock-order checker reported %d potential deadlocks in ordered transfers", clean)
	}
	fmt.Fprintln(w, "lock-order checker: no potential deadlock in the ordered transfers")
	if err := bankNaiveTransfers(ctx, accounts[2], accounts[3]); err != nil {
		return "", err
	}
	reportsMu.Lock()
	defer reportsMu.Unlock()
	if len(reports) != 1 {
		return "", fmt.Errorf("lock-order checker made %d reports on naive transfers, want 1", len(reports))
	}
	first, _, _ := strings.Cut(reports[0].String(), "\n")
	fmt.Fprintf(w, "naive a->b then b->a locking, run one after the other (no hang), is caught:\n  %s\n", first)
	return fmt.Sprintf("%d transfers conserved %s, bad amounts and overdrafts refused, lock-order bug caught",
		goroutines*perEach, bankDollars(total)), nil
}

// bankCheckRejections shows that non-positive amounts and overdrafts are
// refused with errors and change nothing.
func bankCheckRejections(ctx context.Context, w io.Writer, a, b *bankAccount) error {
	before, err := a.Balance(ctx)
	if err != nil {
		return err
	}
	checks := []struct {
		what string
		err  error
		want error
	}{
		{"deposit 0", bankErr(a.Deposit(ctx, 0)), errBankNonPositive},
		{"withdraw -5", bankErr(a.Withdraw(ctx, -5)), errBankNonPositive},
		{"transfer -100", bankTransfer(ctx, a, b, -100), errBankNonPositive},
		{"withdraw more than the balance", bankErr(a.Withdraw(ctx, before+1)), errBankInsufficient},
		{"transfer more than the balance", bankTransfer(ctx, a, b, before+1), errBankInsufficient},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) {
			return fmt.Errorf("%s: got %v, want %v", c.what, c.err, c.want)
		}
		fmt.Fprintf(w, "refused as expected: %s: %v\n", c.what, c.err)
	}
	after, err := a.Balance(ctx)
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("refused operations changed the balance from %d to %d", before, after)
	}
	if _, err := a.Deposit(ctx, 250); err != nil {
		return err
	}
	if got, err := a.Withdraw(ctx, 250); err != nil || got != before {
		return fmt.Errorf("deposit then withdraw of 250 cents: balance %d, %v; want %d", got, err, before)
	}
	return nil
}

// bankErr keeps the error of a (balance, error) result.
func bankErr(_ int64, err error) error { return err }

// bankNaiveTransfers locks a then b, and later b then a, one at a time, as
// a transfer that forgot the lock order would. Nothing hangs in this run;
// two such transfers at the same moment would deadlock, and the checker
// says so.
func bankNaiveTransfers(ctx context.Context, a, b *bankAccount) error {
	for _, pair := range [][2]*bankAccount{{a, b}, {b, a}} {
		if err := pair[0].mu.Lock(ctx); err != nil {
			return err
		}
		if err := pair[1].mu.Lock(ctx); err != nil {
			pair[0].mu.Unlock()
			return err
		}
		pair[1].mu.Unlock()
		pair[0].mu.Unlock()
	}
	return nil
}

// bankDollars formats cents as dollars.
func bankDollars(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

// bankRAccount is the seed's account shape kept as is, for code being
// ported that relies on re-entry: lock.Reentrant carries ownership in the
// context, so Transfer can call the public Withdraw and Deposit while it
// holds both locks.
type bankRAccount struct {
	id      int
	mu      lock.Reentrant // guards balance
	balance int64
}

func (a *bankRAccount) Withdraw(ctx context.Context, cents int64) error {
	ctx, err := a.mu.Lock(ctx) // re-enters if ctx already owns a.mu
	if err != nil {
		return err
	}
	defer func() { _ = a.mu.Unlock(ctx) }()
	if cents <= 0 {
		return errBankNonPositive
	}
	if cents > a.balance {
		return errBankInsufficient
	}
	a.balance -= cents
	return nil
}

func (a *bankRAccount) Deposit(ctx context.Context, cents int64) error {
	ctx, err := a.mu.Lock(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = a.mu.Unlock(ctx) }()
	if cents <= 0 {
		return errBankNonPositive
	}
	a.balance += cents
	return nil
}

// Transfer locks both accounts in id order, as the seed orders by id(),
// then calls the public methods, which re-enter the held locks.
func (a *bankRAccount) Transfer(ctx context.Context, to *bankRAccount, cents int64) error {
	first, second := a, to
	if second.id < first.id {
		first, second = second, first
	}
	ctx, err := first.mu.Lock(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = first.mu.Unlock(ctx) }()
	ctx, err = second.mu.Lock(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = second.mu.Unlock(ctx) }()
	if err := a.Withdraw(ctx, cents); err != nil {
		return err
	}
	return to.Deposit(ctx, cents)
}

// bankReentrantDemo runs the seed-shaped accounts through opposite
// transfers and checks that money is conserved there too.
func bankReentrantDemo(ctx context.Context, w io.Writer) error {
	a, b := &bankRAccount{id: 1, balance: 500_00}, &bankRAccount{id: 2, balance: 500_00}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for _, pair := range [][2]*bankRAccount{{a, b}, {b, a}} {
		wg.Go(func() {
			for i := range 5_000 {
				err := pair[0].Transfer(ctx, pair[1], int64(1+i%700_00))
				if err != nil && !errors.Is(err, errBankInsufficient) {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	if total := a.balance + b.balance; total != 1000_00 {
		return fmt.Errorf("reentrant accounts: total %d cents, want 100000", total)
	}
	fmt.Fprintln(w, "seed-shaped accounts on lock.Reentrant (Transfer re-enters through the context): 10000 transfers, money conserved")
	return nil
}
