package detect

import "strings"

// Context words: a value's confidence rises when a word naming its kind
// stands shortly before it, and some kinds are reported only then. Words
// naming something else (an order, a version, a price, a serial number)
// turn look-alike numbers away.

type ctxBits uint32

const (
	ctxPhone ctxBits = 1 << iota
	ctxID
	ctxCard
	ctxOrder
	ctxVersion
	ctxSerial
	ctxPrice
	ctxPassport
	ctxPermitHKM
	ctxPermitTW
	ctxHK
	ctxTW
	ctxMacao
	ctxIMEI
	ctxMEID
	ctxIDFA
	ctxOAID
	ctxAndroid
	ctxBirth
	ctxPlate
	ctxSSN
	ctxAddress
	ctxCredit
	ctxEmail
	ctxIP
)

// ctxWindow is how many bytes before a value are searched: about eight
// Chinese characters or three English words.
const ctxWindow = 24

// contextWords are matched case-insensitively (English words are written
// here in lower case).
var contextWords = []struct {
	word string
	bits ctxBits
}{
	{"手机", ctxPhone}, {"电话", ctxPhone}, {"联系方式", ctxPhone}, {"致电", ctxPhone}, {"热线", ctxPhone},
	{"mobile", ctxPhone}, {"phone", ctxPhone}, {"tel", ctxPhone}, {"cell", ctxPhone}, {"call", ctxPhone}, {"fax", ctxPhone}, {"desk", ctxPhone}, {"messages to", ctxPhone}, {"answering at", ctxPhone}, {"reach me", ctxPhone}, {"text me", ctxPhone}, {"whatsapp", ctxPhone}, {"微信", ctxPhone}, {"拨打", ctxPhone}, {"座机", ctxPhone}, {"传真", ctxPhone},
	{"身份证", ctxID}, {"证件", ctxID}, {"身份号", ctxID}, {"id card", ctxID}, {"id no", ctxID}, {"identity", ctxID},
	{"卡号", ctxCard}, {"银行卡", ctxCard}, {"信用卡", ctxCard}, {"借记卡", ctxCard}, {"储蓄卡", ctxCard}, {"账号", ctxCard}, {"帐号", ctxCard}, {"账户", ctxCard},
	{"card", ctxCard}, {"cc", ctxCard}, {"credit", ctxCard}, {"visa", ctxCard}, {"mastercard", ctxCard}, {"amex", ctxCard}, {"unionpay", ctxCard}, {"银联", ctxCard},
	{"订单", ctxOrder}, {"单号", ctxOrder}, {"交易号", ctxOrder}, {"流水号", ctxOrder}, {"运单", ctxOrder}, {"快递单", ctxOrder}, {"发票", ctxOrder},
	{"order", ctxOrder}, {"invoice", ctxOrder}, {"tracking", ctxOrder}, {"transaction", ctxOrder}, {"txn", ctxOrder}, {"ref", ctxOrder},
	{"时间戳", ctxOrder}, {"timestamp", ctxOrder}, {"trace", ctxOrder}, {"request id", ctxOrder}, {"snowflake", ctxOrder},
	{"版本", ctxVersion}, {"version", ctxVersion}, {"ver", ctxVersion}, {"build", ctxVersion}, {"release", ctxVersion},
	{"序列号", ctxSerial}, {"sn:", ctxSerial}, {"sn ", ctxSerial}, {"s/n", ctxSerial}, {"serial", ctxSerial}, {"型号", ctxSerial}, {"model", ctxSerial}, {"批次", ctxSerial},
	{"¥", ctxPrice}, {"￥", ctxPrice}, {"$", ctxPrice}, {"价格", ctxPrice}, {"金额", ctxPrice}, {"售价", ctxPrice}, {"price", ctxPrice}, {"amount", ctxPrice}, {"rmb", ctxPrice}, {"cny", ctxPrice}, {"usd", ctxPrice},
	{"护照", ctxPassport}, {"passport", ctxPassport},
	{"港澳", ctxPermitHKM}, {"回乡证", ctxPermitHKM}, {"通行证", ctxPermitHKM | ctxPermitTW}, {"permit", ctxPermitHKM | ctxPermitTW},
	{"台胞证", ctxPermitTW}, {"台湾居民", ctxPermitTW},
	{"香港", ctxHK}, {"hkid", ctxHK}, {"hong kong", ctxHK},
	{"台湾", ctxTW}, {"臺灣", ctxTW}, {"taiwan", ctxTW},
	{"澳门", ctxMacao}, {"澳門", ctxMacao}, {"macao", ctxMacao}, {"macau", ctxMacao}, {"bir", ctxMacao},
	{"imei", ctxIMEI}, {"串号", ctxIMEI}, {"meid", ctxMEID | ctxIMEI},
	{"idfa", ctxIDFA}, {"广告标识", ctxIDFA | ctxOAID}, {"oaid", ctxOAID}, {"android", ctxAndroid}, {"安卓", ctxAndroid},
	{"出生", ctxBirth}, {"生日", ctxBirth}, {"生于", ctxBirth}, {"birth", ctxBirth}, {"dob", ctxBirth}, {"born", ctxBirth},
	{"车牌", ctxPlate}, {"牌照", ctxPlate}, {"plate", ctxPlate}, {"registration", ctxPlate},
	{"ssn", ctxSSN}, {"social security", ctxSSN},
	{"地址", ctxAddress}, {"住址", ctxAddress}, {"收货", ctxAddress}, {"寄往", ctxAddress}, {"住在", ctxAddress}, {"位于", ctxAddress}, {"address", ctxAddress},
	{"信用代码", ctxCredit}, {"统一社会", ctxCredit}, {"税号", ctxCredit}, {"credit code", ctxCredit},
	{"ip", ctxIP}, {"host", ctxIP}, {"server", ctxIP}, {"client", ctxIP}, {"from", ctxIP}, {"addr", ctxIP}, {"服务器", ctxIP}, {"主机", ctxIP}, {"登录", ctxIP}, {"访问", ctxIP},
	{"邮箱", ctxEmail}, {"email", ctxEmail}, {"e-mail", ctxEmail}, {"mail", ctxEmail},
}

// byFirst lists, for each first byte (lower case), the contextWords it opens.
var byFirst [256][]uint8

func init() {
	for k, cw := range contextWords {
		c := cw.word[0]
		byFirst[c] = append(byFirst[c], uint8(k))
		if c >= 'a' && c <= 'z' {
			byFirst[c-'a'+'A'] = append(byFirst[c-'a'+'A'], uint8(k))
		}
	}
}

// contextBefore returns the context words found in the ctxWindow bytes
// before start, in one pass over the window. Of an order word and a word
// naming a card, telephone or ID, only the nearer counts: "the order to
// card 4111…" is a card.
func contextBefore(s string, start int) ctxBits {
	lo := max(0, start-ctxWindow)
	for lo < start && s[lo]&0xC0 == 0x80 {
		lo++ // start on a character
	}
	// A word on the line before counts only for a value that opens its
	// line (a label above a value); a log line's words say nothing of the
	// next line's numbers.
	if nl := strings.LastIndexByte(s[lo:start], '\n'); nl >= 0 && strings.TrimSpace(s[lo+nl+1:start]) != "" {
		lo += nl + 1
	}
	// Full-width letters fold to ASCII (ＩＭＥＩ), other characters stay.
	var buf [ctxWindow]byte
	n := 0
	for i := lo; i < start; {
		c, k := normAt(s, i)
		if c != 0 {
			buf[n] = c
			n++
		} else {
			n += copy(buf[n:], s[i:min(i+k, start)])
		}
		i += k
	}
	w := buf[:n]
	var bits ctxBits
	orderAt, cardAt := -1, -1
	for i := 0; i < len(w); i++ {
		for _, k := range byFirst[w[i]] {
			cw := &contextWords[k]
			if !hasPrefixFold(w[i:], cw.word) || isLetter(cw.word[0]) && i > 0 && isLetter(w[i-1]) {
				continue
			}
			bits |= cw.bits
			if cw.bits&ctxOrder != 0 {
				orderAt = i
			}
			if cw.bits&(ctxCard|ctxPhone|ctxID) != 0 {
				cardAt = i
			}
		}
	}
	if orderAt >= 0 && cardAt > orderAt {
		bits &^= ctxOrder
	}
	return bits
}

// context is contextBefore, computed once per position.
func (sc *scanner) context(start int) ctxBits {
	if sc.ctxPos != start+1 {
		sc.ctxPos, sc.ctxBits = start+1, contextBefore(sc.s, start)
	}
	return sc.ctxBits
}
