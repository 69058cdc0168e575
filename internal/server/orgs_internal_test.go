package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRequestWritesHoldTheLinks: the writes that take or verify rights
// requests run while the links cannot change (a relink waits for them);
// reads and every other write do not wait for a relink.
func TestRequestWritesHoldTheLinks(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		held         bool
	}{
		{"POST", "/v1/public/requests", true},
		{"POST", "/v1/public/requests/rq_1/verify", true},
		{"POST", "/v1/requests", true},
		{"POST", "/v1/requests/rq_1/verify", true},
		{"POST", "/privacy/requests", true},
		{"POST", "/console/requests/rq_1/verify", true},
		{"GET", "/v1/requests", false},
		{"GET", "/privacy/", false},
		{"POST", "/v1/check", false},
		{"POST", "/v1/subjects/u-1/consents", false},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			s := &Server{}
			s.orgs.current.Store(&hosting{})
			var held bool
			h := s.byHost(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				held = !s.orgs.linking.TryLock()
				if !held {
					s.orgs.linking.Unlock()
				}
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, "http://custos.test"+tc.path, nil))
			if held != tc.held {
				t.Errorf("links held: %v, want %v", held, tc.held)
			}
			if !s.orgs.linking.TryLock() {
				t.Error("the links stay held after the request")
			}
		})
	}
}
