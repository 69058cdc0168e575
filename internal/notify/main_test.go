package notify

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"flag"
	"testing"
	"time"
)

// update makes golden-file tests rewrite their files: go test ./internal/notify -update
var update = flag.Bool("update", false, "rewrite golden files")

// gcmSealer is a Sealer on AES-256-GCM with a random key, standing in for
// internal/seal in tests.
type gcmSealer struct{ aead cipher.AEAD }

func newGCMSealer(t *testing.T) *gcmSealer {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &gcmSealer{aead: a}
}

func (s *gcmSealer) Seal(_ context.Context, owner string, plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, append([]byte(owner+"\x00"), ad...)), nil
}

func (s *gcmSealer) Open(_ context.Context, owner string, ciphertext, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ciphertext) < n {
		return nil, errors.New("short ciphertext")
	}
	return s.aead.Open(nil, ciphertext[:n], ciphertext[n:], append([]byte(owner+"\x00"), ad...))
}

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const (
	testEmail = "li.lei@example.com"
	testPhone = "+8613800138000"
	testCode  = "482915"
)

// sampleData holds every value any template uses, in the template's
// language.
func sampleData(lang string) map[string]string {
	d := map[string]string{
		"code":            testCode,
		"minutes":         "10",
		"request":         "req_7f3a9c21",
		"type":            "deletion",
		"state":           "received",
		"due_date":        "2026-03-20",
		"effective":       "2026-04-01",
		"reason":          "the request covers records held by a processor, who needs more time to find them",
		"task":            "rt_1",
		"action":          "deletion",
		"categories":      "basic.email, basic.name",
		"subject_ref":     "ref-1",
		"ack_token":       "rt_1.mac",
		"ack_path":        "/v1/public/acknowledgements/rt_1.mac",
		"version":         "3.1",
		"url":             "https://example.com/privacy",
		"accept":          "yes",
		"recipient":       "Acme Cloud",
		"host":            "acme.example",
		"incident":        "in_1",
		"clock":           "cn_regulator",
		"source":          "national cybersecurity incident reporting measures (2025)",
		"stage":           "warning",
		"deadline":        "2026-03-20 12:00 UTC",
		"contact":         "privacy@example.com",
		"what_happened":   "an unprotected backup of the order database was reachable from the internet",
		"impact":          "your email address may be used for phishing",
		"measures":        "we removed the backup and rotated every credential",
		"self_protection": "be wary of messages asking for your password",
		"remedies":        "you may complain to the regulator or claim damages",
		"cause":           "a misconfigured storage bucket",
		"year":            "2026",
		"people":          "87000",
		"projected":       "112000",
		"threshold":       "100000",
		"kind":            "projected",
		"mechanism":       "standard contract",
		"flows":           "sg-sync-relay",
	}
	if lang == LangZH {
		d["reason"] = "请求涉及受托处理者保存的记录，需要更多时间查找"
		d["what_happened"] = "订单数据库的一份未加保护的备份可从互联网访问"
		d["impact"] = "您的电子邮件地址可能被用于网络钓鱼"
		d["measures"] = "我们已删除该备份并更换了全部凭据"
		d["self_protection"] = "请警惕索要密码的消息"
		d["remedies"] = "您可以向监管部门投诉或依法要求赔偿"
		d["cause"] = "存储桶配置错误"
	}
	return d
}

// sampleFor is sampleData with a reason that fits the template, for
// messages a reviewer reads.
func sampleFor(template, lang string) map[string]string {
	d := sampleData(lang)
	reasons := map[string][2]string{
		"request_completed": {
			"您的账号数据、订单记录和客服工单已删除。按照税法要求，发票保存 5 年。",
			"Your account data, order history and support tickets have been deleted. Invoices are kept for 5 years, as tax law requires.",
		},
		"request_refused": {
			"我们没有与您提供的信息相关联的个人信息。",
			"We hold no personal information linked to the details you gave.",
		},
		"request_cancelled": {"您撤回了请求。", "You withdrew it."},
		"request_fee": {
			"您在 12 个月内第 4 次提出复制请求，超出了免费次数。",
			"This is your fourth request for a copy in 12 months, beyond the free ones.",
		},
		"transmission_failed": {"对方服务拒绝接收（返回 410）。", "The receiving service refused it (it answered 410)."},
	}
	if r, ok := reasons[template]; ok {
		d["reason"] = r[1]
		if lang == LangZH {
			d["reason"] = r[0]
		}
	}
	if template == "transfer_threshold" && lang == LangZH {
		d["mechanism"] = "个人信息出境标准合同"
	}
	if template == "request_fee" {
		d["amount"], d["currency"] = "20.00", "CNY"
	}
	if template == "request_refused" {
		d["ground_text"] = "the request is manifestly unfounded"
		if lang == LangZH {
			d["ground_text"] = "您的请求明显缺乏根据的"
		}
	}
	return d
}
