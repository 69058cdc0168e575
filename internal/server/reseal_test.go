package server_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/keystore/keystoretest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
	"github.com/custos-privacy/custos/internal/testdb"
)

// TestReseal: values sealed with the data keyset alone, as before the key
// store, are sealed again under their owner's key; a message loses the
// code it kept in the clear; once resealed, erasure makes them unreadable
// even with the keyset; a second run finds nothing to do.
func TestReseal(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		st := storetest.Open(t, dsn)
		ksJSON, err := seal.GenerateKeyset()
		if err != nil {
			t.Fatal(err)
		}
		kek, _ := seal.New(ksJSON)
		keys := keystoretest.New(t, kek)

		const phone, addr = "+8613800138000", "li.lei@example.com"
		sealedPhone, _ := kek.Seal([]byte(phone), []byte("u-1\x00phone"))
		if err := st.CreateSubject(ctx, store.Subject{ID: "u-1", Identities: []store.Identity{{Kind: "phone", Hash: []byte("h-phone"), Sealed: sealedPhone}}}); err != nil {
			t.Fatal(err)
		}
		sealedAddr, _ := kek.Seal([]byte(addr), []byte("outbox:dl_old"))
		d := notify.Delivery{ID: "dl_old", Channel: notify.ChannelEmail, Sealed: sealedAddr, Template: "otp", Lang: "en",
			NextAt: time.Now(), Status: notify.StatusPending, Subject: "u-1"}
		if err := st.Submit(ctx, &store.Write{Fn: st.OutboxFn(d)}); err != nil {
			t.Fatal(err)
		}
		// What the outbox held in the clear before: the code.
		db := openRaw(t, dsn)
		if _, err := db.ExecContext(ctx, rebind(dsn, `UPDATE outbox SET data = ? WHERE id = ?`), `{"code":"482915","minutes":"10"}`, "dl_old"); err != nil {
			t.Fatal(err)
		}

		rep, err := server.Reseal(ctx, st, keys, nil)
		if err != nil || rep.Resealed != 2 || rep.Failed != 0 {
			t.Fatalf("Reseal = %+v, %v; want 2 resealed", rep, err)
		}
		sub, err := st.Subject(ctx, "u-1")
		if err != nil || len(sub.Identities) != 1 {
			t.Fatal(sub, err)
		}
		got := sub.Identities[0].Sealed
		if !keystore.OwnerSealed(got) {
			t.Fatal("the identity is still sealed with the keyset alone")
		}
		if v, err := keys.Open(ctx, keystore.Subject("u-1"), got, []byte("u-1\x00phone")); err != nil || string(v) != phone {
			t.Errorf("resealed identity opens as %q, %v", v, err)
		}
		due, err := st.Outbox().Due(ctx, time.Now().Add(time.Hour), 10)
		if err != nil || len(due) != 1 {
			t.Fatal(due, err)
		}
		p, err := notify.OpenPayload(ctx, keys, due[0])
		if err != nil || p.To != addr || p.Data["code"] != "482915" {
			t.Errorf("resealed message: %+v, %v; want the address and the code", p, err)
		}
		var data string
		if err := db.QueryRowContext(ctx, rebind(dsn, `SELECT data FROM outbox WHERE id = ?`), "dl_old").Scan(&data); err != nil || strings.Contains(data, "482915") {
			t.Errorf("the outbox still holds the code in the clear: %q, %v", data, err)
		}
		if rep, err := server.Reseal(ctx, st, keys, nil); err != nil || rep != (server.ResealReport{}) {
			t.Errorf("second Reseal = %+v, %v; want nothing to do", rep, err)
		}
		// Resealed, the identity goes with the subject's key.
		if _, err := keys.Destroy(ctx, keystore.Subject("u-1")); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.Open(ctx, keystore.Subject("u-1"), got, []byte("u-1\x00phone")); err == nil {
			t.Error("the resealed identity opens after its owner's key was destroyed")
		}
	})
}

// openRaw opens the database behind dsn directly, as an operator would.
func openRaw(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		// As the administrator: past row-level security.
		driver, dsn = "pgx", testdb.PostgresAdmin(t, dsn)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rebind turns ? placeholders into PostgreSQL's $1, $2, … for a postgres DSN.
func rebind(dsn, q string) string {
	if !strings.HasPrefix(dsn, "postgres") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
