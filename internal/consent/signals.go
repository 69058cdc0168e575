package consent

import "net/http"

// RequestSignals reads the browser opt-out signals a request carries:
// Global Privacy Control (Sec-GPC: 1) and Do Not Track (DNT: 1). Whether
// either refuses anything is the manifest's signals statement, applied
// when the ledger is written; this is the one place the headers are read.
func RequestSignals(h http.Header) []string {
	var out []string
	if h.Get("Sec-GPC") == "1" {
		out = append(out, SignalGPC)
	}
	if h.Get("DNT") == "1" {
		out = append(out, SignalDNT)
	}
	return out
}
