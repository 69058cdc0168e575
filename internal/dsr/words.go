package dsr

import (
	"fmt"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/policy"
)

// History notes the service writes by itself. They are English, for
// operators; the privacy center shows each in the visitor's language and
// shows no other note of the service's to the public.
const (
	NoteReceived           = "received from the public"
	NoteCodeSent           = "code sent"
	NoteVerifiedByCode     = "identity verified by one-time code"
	NoteVerifiedByOperator = "identity verified by the operator"
	NoteWithdrawn          = "withdrawn by the subject"
	NoteTooManyCodes       = "too many wrong codes"
	NoteWorkStarted        = "work started"
	NoteSubjectAnswered    = "the subject answered"
	// NoteRecomputed is followed by the version of the calendar used.
	NoteRecomputed = "due date recomputed with calendar "
	// NoteMerged is followed by the id of the open request.
	NoteMerged = "merged into the open request "
	// NoteForwarded ends a request passed to the organisations that
	// control the data (links.go).
	NoteForwarded = "passed to the controllers of the data"
	// NoteNotPassedOn is followed by the linked organisations (affiliates,
	// controllers) a request an operator took could not reach, for want of
	// an email or phone of the subject kept to find the same person there.
	NoteNotPassedOn = "not passed on: no email or phone of the subject is kept to find them at "
)

// told picks what the subject is told in their language (the request's):
// Chinese for zh-CN, English otherwise; format verbs apply.
func told(lang, zh, en string, args ...any) string {
	f := en
	if strings.HasPrefix(lang, "zh") {
		f = zh
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// recipientsPending tells the subject which recipients of their data, by
// name, have yet to be told of their request: a request completes here
// while the notices are still on their way, and saying "done" alone would
// claim more than is done. "" when there are none.
func recipientsPending(lang string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return told(lang, "我们正在将您的请求告知曾接收您个人信息的以下接收方，并等待其确认处理：%s。",
		"We are still telling the following recipients of your personal information about your request, and waiting for them to confirm they have acted on it: %s.",
		policy.Join(lang, names))
}

// joinTold puts two things the subject is told one after the other.
func joinTold(lang, a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + told(lang, "", " ") + b
}

// purposeNames are the names of purpose ids in lang, in the order given;
// an id the manifest no longer has is left out rather than shown.
func purposeNames(m *manifest.Manifest, ids []string, lang string) string {
	var names []string
	for _, id := range ids {
		if p, ok := m.Purpose(id); ok {
			names = append(names, p.Name.In(lang))
		}
	}
	return policy.Join(lang, names)
}

// DeadlineWords says a request's deadline rule (View.Deadline, as
// describe writes it) in lang, with the policy's words for its units:
// "15个工作日（必要时可延长15个工作日）" / "15 working days (extendable by
// 15 working days)". It is "" for a rule it cannot read, never the rule's
// own spelling.
func DeadlineWords(rule, lang string) string {
	base, ext, hasExt := strings.Cut(rule, " (+")
	n, unit, ok := parseCount(base)
	if !ok {
		return ""
	}
	s := policy.Duration(lang, n, unit)
	if hasExt {
		if n, unit, ok := parseCount(strings.TrimSuffix(ext, ")")); ok {
			s += told(lang, "（必要时可延长%s）", " (extendable by %s)", policy.Duration(lang, n, unit))
		}
	}
	return s
}

func parseCount(s string) (int, string, bool) {
	var n int
	var unit string
	if _, err := fmt.Sscanf(s, "%d %s", &n, &unit); err != nil {
		return 0, "", false
	}
	return n, unit, true
}

// DueNote says why a provisional due date (View.DueProvisional) may move:
// the public holidays of the years it rests on are not published yet, so
// working days are counted as Monday to Friday until they are, and the date
// is recomputed when they are (LoadCalendar). It is "" for no years.
func DueNote(lang string, years []int) string {
	if len(years) == 0 {
		return ""
	}
	var ys []string
	for _, y := range years {
		ys = append(ys, fmt.Sprint(y))
	}
	return told(lang,
		"该日期为暂定日期：%s年的法定节假日安排尚未公布，公布前我们按周一至周五计算工作日。安排公布后，我们将重新计算答复期限，日期可能随之调整。",
		"This date is provisional: the public holidays for %s have not been published yet, so until they are we count Monday to Friday as working days. Once they are published we will recompute the date, which may then move.",
		policy.Join(lang, ys))
}

// ChannelChoice is a channel a request may say it comes through (Input.Via)
// where the policy's term depends on the channel.
type ChannelChoice struct {
	// Via is the value Input.Via takes.
	Via string
	// Name is the channel as the policy names it, in the language asked;
	// self_service is the product's own account cancellation.
	Name string
	// Term is how long the policy gives through this channel, in words.
	Term string
}

// ChannelChoices lists, for a request of right, the channels the policy
// gives terms of their own (account_cancellation.terms), in its order and
// in lang; nil where the right's term does not depend on the channel.
// It is deadlineOf's rule seen from the requester's side.
func ChannelChoices(m *manifest.Manifest, right, lang string) []ChannelChoice {
	c := m.Rights.Cancellation
	if c == nil || right != "cancel_account" || len(c.Terms) == 0 {
		return nil
	}
	names := map[string]string{}
	for _, ch := range m.Contact.Channels {
		name := ch.Label.In(lang)
		if name == "" {
			name = ch.Value
		}
		if name == "" {
			name = ch.ID
		}
		names[ch.ID] = name
	}
	names[manifest.SelfServiceChannel] = told(lang, "账号自带的注销功能（登录产品后自行注销）", "the account's own cancellation function (signed in to the product)")
	out := make([]ChannelChoice, 0, len(c.Terms))
	for _, t := range c.Terms {
		term := told(lang, "立即生效", "takes effect at once")
		if t.Count > 0 {
			term = policy.Duration(lang, t.Count, t.Unit)
		}
		out = append(out, ChannelChoice{Via: t.Channel, Name: names[t.Channel], Term: term})
	}
	return out
}
