package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestAuditPageAfterCut: once the trail has been cut for retention, the
// verification page says where it starts, so that its count of entries
// is not read as the whole trail's.
func TestAuditPageAfterCut(t *testing.T) {
	d := webtest.Demo(t)
	admin := signedIn(t, d, adminUser, adminPW)
	if r := admin.post("/console/audit/verify", nil); r.status != http.StatusOK || strings.Contains(r.body, `id="audit-since"`) {
		t.Fatalf("before a cut: %d, says where it starts: %v", r.status, strings.Contains(r.body, `id="audit-since"`))
	}
	st := d.Server.Store()
	es, err := st.AuditEntries(t.Context(), audit.Filter{Limit: 3})
	if err != nil || len(es) < 3 {
		t.Fatalf("entries: %d, %v", len(es), err)
	}
	if _, err := st.CutAudit(t.Context(), audit.Chain{Seq: es[2].Seq, Hash: es[2].Hash}, 1000, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	r := admin.post("/console/audit/verify", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="audit-since"`) || !strings.Contains(r.body, "verification starts after entry 3 ") {
		t.Errorf("after a cut at entry 3: %d\n%s", r.status, r.body)
	}
}
