package manifest

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// DefaultNoticeWithin is how soon affected people are told of an incident
// when security.incident.notice_within is unset: PIPL art. 57 says
// "promptly" (立即) and GDPR art. 34 "without undue delay", neither a number.
const DefaultNoticeWithin = 24 * time.Hour

// maxNoticeWithin bounds notice_within: a month is no longer "promptly".
const maxNoticeWithin = 720 * time.Hour

// NoticeTarget is the time the organisation gives itself to tell the
// affected people of an incident (notice_within, else DefaultNoticeWithin).
func (i *Incident) NoticeTarget() time.Duration {
	if i == nil || i.NoticeWithin == "" {
		return DefaultNoticeWithin
	}
	d, err := parseNoticeWithin(i.NoticeWithin)
	if err != nil {
		return DefaultNoticeWithin
	}
	return d
}

// noticeWithin is a duration in whole hours and minutes (24h, 90m,
// 1h30m): no seconds or fractions, which a notice target never needs.
var noticeWithin = regexp.MustCompile(`^(?:[0-9]{1,4}h)?(?:[0-9]{1,5}m)?$`)

func parseNoticeWithin(s string) (time.Duration, error) {
	if s == "" || !noticeWithin.MatchString(s) {
		return 0, fmt.Errorf("not hours or minutes")
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxNoticeWithin {
		return 0, fmt.Errorf("out of range")
	}
	return d, nil
}

// checkIncident: the notice target is a duration Custos can count down,
// and whoever an incident escalates to is an email address.
func (v *validator) checkIncident() {
	in := v.m.Security.Incident
	if in == nil {
		return
	}
	if in.NoticeWithin != "" {
		if _, err := parseNoticeWithin(in.NoticeWithin); err != nil {
			v.errorf("security.incident.notice_within", "invalid notice_within %q: give hours or minutes such as 24h or 90m, more than 0 and at most 720h", in.NoticeWithin)
		}
	}
	seen := map[string]bool{}
	for i, e := range in.Escalate {
		path := fmt.Sprintf("security.incident.escalate[%d]", i)
		a, err := mail.ParseAddress(e)
		switch {
		case err != nil || a.Address != e || a.Name != "":
			v.errorf(path, "invalid escalation address %q: give a bare email address such as security@example.com", e)
		case seen[strings.ToLower(e)]:
			v.errorf(path, "escalation address %q is listed twice", e)
		}
		seen[strings.ToLower(e)] = true
	}
}
