// Package scanbench measures the text scanner (detect.Text) beside the npm
// redactors a Node.js shop would reach for: throughput, peak memory and
// agreement with planted truth on a generated corpus, and precision, recall
// and F1 per type on the shared labelled corpora.
//
// Nothing here logs a value it plants or finds: the planted truth holds
// offsets and types, and the reports hold counts.
package scanbench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Types of personal information the corpus plants and the scorers count.
// Every tool's findings are mapped onto these (see types.go).
const (
	TypePhone   = "phone"
	TypeIDCard  = "id_card"
	TypeCard    = "bank_card"
	TypeEmail   = "email"
	TypeIP      = "ip"
	TypeName    = "name"
	TypeAddress = "address"
	TypeSSN     = "ssn"
	TypePlate   = "plate"
)

// Planted is one value the generator wrote: Len bytes at byte offset Off.
type Planted struct {
	Off  int64
	Len  int
	Type string
}

// CorpusStats counts what Generate wrote.
type CorpusStats struct {
	Bytes     int64          `json:"bytes"`
	Lines     int64          `json:"lines"`
	LinesPI   int64          `json:"lines_with_pi"`
	Planted   map[string]int `json:"planted"`
	Negatives int64          `json:"hard_negatives"`
}

// Generate writes at least size bytes of mixed Chinese and English text to
// w: log lines, support tickets, CSV-ish rows and JSON lines, with personal
// information on a few per cent of the lines and hard negatives (order
// numbers that pass Luhn, UUIDs, hashes, timestamps, snowflake ids) on many.
// Each planted value is written to truth as "OFF LEN TYPE\n", in order. The
// same seed and size give the same bytes. Memory does not grow with size.
func Generate(w, truth io.Writer, size int64, seed uint64) (CorpusStats, error) {
	g := &gen{
		r:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		out:   bufio.NewWriterSize(w, 1<<16),
		truth: bufio.NewWriterSize(truth, 1<<16),
		stats: CorpusStats{Planted: map[string]int{}},
	}
	for g.stats.Bytes < size {
		g.line()
		if g.err != nil {
			return g.stats, g.err
		}
	}
	if err := g.out.Flush(); err != nil {
		return g.stats, err
	}
	return g.stats, g.truth.Flush()
}

type gen struct {
	r     *rand.Rand
	out   *bufio.Writer
	truth *bufio.Writer
	stats CorpusStats
	err   error
	pi    bool // the current line carries personal information
}

func (g *gen) text(s string) {
	if g.err != nil {
		return
	}
	n, err := g.out.WriteString(s)
	g.stats.Bytes += int64(n)
	g.err = err
}

// plant writes a value of personal information and records where it is.
func (g *gen) plant(typ, v string) {
	if g.err != nil {
		return
	}
	off := g.stats.Bytes
	g.text(v)
	if _, err := fmt.Fprintf(g.truth, "%d %d %s\n", off, len(v), typ); err != nil {
		g.err = err
	}
	g.stats.Planted[typ]++
	g.pi = true
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// piRate is the share of lines (in thousandths) that carry a value.
const piRate = 40

func (g *gen) line() {
	g.pi = false
	withPI := g.r.IntN(1000) < piRate
	switch k := g.r.IntN(100); {
	case k < 40:
		g.logLine(withPI)
	case k < 60:
		g.ticket(withPI)
	case k < 80:
		g.csvRow(withPI)
	default:
		g.jsonLine(withPI)
	}
	g.text("\n")
	g.stats.Lines++
	if g.pi {
		g.stats.LinesPI++
	}
}

var (
	levels    = []string{"INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"}
	services  = []string{"order-svc", "gateway", "user-center", "pay-core", "notify", "search-api", "risk-engine"}
	paths     = []string{"/api/v1/orders", "/api/v2/users/profile", "/healthz", "/api/v1/pay/callback", "/static/app.js", "/api/v1/search"}
	logMsgsEN = []string{"request completed", "cache miss, loading from db", "retrying upstream call", "slow query detected", "token refreshed", "payment callback verified", "rate limit applied"}
	logMsgsZH = []string{"请求处理完成", "缓存未命中，回源数据库", "上游调用重试", "检测到慢查询", "令牌已刷新", "支付回调验签通过", "触发限流"}
	ticketZH  = []string{"您好，我的订单一直没有发货，麻烦帮忙查一下。", "退款申请已经提交三天了还没有到账。", "APP 登录时提示网络异常，请问怎么处理？", "收到的商品有破损，希望换货。", "发票抬头填错了，能否重新开具？"}
	ticketEN  = []string{"Hello, my parcel has not arrived yet, could you check?", "I was charged twice for the same order.", "The app crashes when I open settings.", "Please cancel my subscription before renewal.", "I need an invoice for my company."}
	products  = []string{"无线耳机", "机械键盘", "保温杯", "running shoes", "USB-C cable", "护眼台灯", "backpack"}
)

// logLine writes "2026-03-01T08:00:00.123Z INFO svc trace=… msg".
func (g *gen) logLine(withPI bool) {
	g.text(g.timestamp())
	g.text(" " + g.pick(levels) + " [" + g.pick(services) + "] trace=" + g.hex(16) + " ")
	if g.r.IntN(2) == 0 {
		g.text(g.pick(logMsgsEN))
	} else {
		g.text(g.pick(logMsgsZH))
	}
	g.text(" path=" + g.pick(paths) + " latency_ms=" + strconv.Itoa(g.r.IntN(900)+1))
	g.negatives(1)
	if withPI {
		switch g.r.IntN(4) {
		case 0:
			g.text(" user_phone=")
			g.plant(TypePhone, g.mobile())
		case 1:
			g.text(" email=")
			g.plant(TypeEmail, g.email())
		case 2:
			g.text(" client_ip=")
			g.plant(TypeIP, g.ipv4())
		default:
			g.text(" 身份证号:")
			g.plant(TypeIDCard, g.prcID())
		}
	} else {
		g.text(" pid=" + strconv.Itoa(1000+g.r.IntN(60000)))
	}
}

// ticket writes a support ticket on one line.
func (g *gen) ticket(withPI bool) {
	zh := g.r.IntN(3) != 0
	if zh {
		g.text("工单#" + strconv.Itoa(100000+g.r.IntN(900000)) + " 客户留言：" + g.pick(ticketZH))
	} else {
		g.text("Ticket #" + strconv.Itoa(100000+g.r.IntN(900000)) + " customer wrote: " + g.pick(ticketEN))
	}
	g.negatives(1)
	if !withPI {
		return
	}
	for n := 1 + g.r.IntN(2); n > 0; n-- {
		switch g.r.IntN(7) {
		case 0:
			if zh {
				g.text(" 联系人：")
				g.plant(TypeName, g.zhName())
			} else {
				g.text(" Name: ")
				g.plant(TypeName, g.enName())
			}
		case 1:
			g.text(" 手机 ")
			g.plant(TypePhone, g.mobileForm())
		case 2:
			if zh {
				g.text(" 收货地址：")
				g.plant(TypeAddress, g.zhAddress())
			} else {
				g.text(" ship to ")
				g.plant(TypeAddress, g.enAddress())
			}
		case 3:
			g.text(" 退款银行卡 ")
			g.plant(TypeCard, g.card())
		case 4:
			g.text(" mail: ")
			g.plant(TypeEmail, g.email())
		case 5:
			g.text(" 身份证 ")
			g.plant(TypeIDCard, g.prcID())
		default:
			g.text(" login from ")
			g.plant(TypeIP, g.ipv4())
		}
	}
}

// csvRow writes order_id,created_at,product,amount,name,phone,address,uuid.
func (g *gen) csvRow(withPI bool) {
	g.text(g.orderNo() + "," + g.timestamp() + "," + g.pick(products) + "," + strconv.Itoa(g.r.IntN(2000)) + "." + strconv.Itoa(10+g.r.IntN(90)) + ",")
	g.stats.Negatives++
	if withPI {
		g.plant(TypeName, g.zhName())
		g.text(",")
		g.plant(TypePhone, g.mobile())
		g.text(",")
		if g.r.IntN(2) == 0 {
			g.plant(TypeAddress, g.zhAddress())
		}
	} else {
		g.text("-,-,")
	}
	g.text("," + g.uuid())
	g.stats.Negatives++
}

// jsonLine writes an event as JSON.
func (g *gen) jsonLine(withPI bool) {
	g.text(`{"ts":` + strconv.FormatInt(1_700_000_000_000+g.r.Int64N(100_000_000_000), 10) + `,"event":"` + g.pick([]string{"checkout", "login", "view", "refund"}) + `","id":"` + g.snowflake() + `","sha256":"` + g.hex(64) + `"`)
	g.stats.Negatives += 2
	if withPI {
		switch g.r.IntN(5) {
		case 0:
			g.text(`,"mobile":"`)
			g.plant(TypePhone, g.mobile())
		case 1:
			g.text(`,"email":"`)
			g.plant(TypeEmail, g.email())
		case 2:
			g.text(`,"card_no":"`)
			g.plant(TypeCard, g.card())
		case 3:
			g.text(`,"ip":"`)
			g.plant(TypeIP, g.ipv4())
		default:
			g.text(`,"id_no":"`)
			g.plant(TypeIDCard, g.prcID())
		}
		g.text(`"`)
	}
	g.text(`,"version":"` + strconv.Itoa(1+g.r.IntN(9)) + "." + strconv.Itoa(g.r.IntN(20)) + "." + strconv.Itoa(g.r.IntN(50)) + `"}`)
}

// negatives writes hard negatives: values shaped like personal information
// that are not, in the context that says so: order numbers that pass Luhn,
// UUIDs, hashes, millisecond timestamps, snowflake ids, four-part versions.
func (g *gen) negatives(max int) {
	for n := g.r.IntN(max + 1); n > 0; n-- {
		g.stats.Negatives++
		switch g.r.IntN(7) {
		case 6:
			g.text(" app_version=" + strconv.Itoa(1+g.r.IntN(9)) + "." + strconv.Itoa(g.r.IntN(30)) + "." + strconv.Itoa(g.r.IntN(30)) + "." + strconv.Itoa(g.r.IntN(300)))
		case 0:
			g.text(" 订单号 " + g.orderNo())
		case 1:
			g.text(" order_no=" + g.orderNo())
		case 2:
			g.text(" request_id=" + g.uuid())
		case 3:
			g.text(" md5=" + g.hex(32))
		case 4:
			g.text(" ts=" + strconv.FormatInt(1_700_000_000_000+g.r.Int64N(100_000_000_000), 10))
		default:
			g.text(" msg_id=" + g.snowflake())
		}
	}
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) hex(n int) string {
	const h = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = h[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) uuid() string {
	h := g.hex(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

func (g *gen) timestamp() string {
	return fmt.Sprintf("2026-%02d-%02dT%02d:%02d:%02d.%03dZ", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1000))
}

// snowflake is an 18- or 19-digit id of the kind message queues hand out.
func (g *gen) snowflake() string {
	return strconv.FormatInt(1_700_000_000_000_000_000+g.r.Int64N(200_000_000_000_000_000), 10)
}

// orderNo is a 16-digit order number that passes Luhn: a card's shape,
// in an order's context.
func (g *gen) orderNo() string {
	return withLuhn("20" + strconv.Itoa(24+g.r.IntN(3)) + g.digits(11))
}

var mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157", "158", "159", "166", "170", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "193", "195", "198", "199"}

func (g *gen) mobile() string { return g.pick(mobilePrefixes) + g.digits(8) }

// mobileForm writes a mobile as people type it.
func (g *gen) mobileForm() string {
	m := g.mobile()
	switch g.r.IntN(4) {
	case 0:
		return "+86 " + m
	case 1:
		return m[:3] + "-" + m[3:7] + "-" + m[7:]
	default:
		return m
	}
}

var regions = []string{"110101", "110105", "110108", "310101", "310104", "310115", "440103", "440106", "440305", "440306", "330102", "330106", "320102", "320506", "510104", "510107", "420106", "610113", "500103", "370102"}

// prcID is a resident ID with a valid region, birth date and GB 11643 check.
func (g *gen) prcID() string {
	body := g.pick(regions) + fmt.Sprintf("%04d%02d%02d", 1950+g.r.IntN(56), 1+g.r.IntN(12), 1+g.r.IntN(28)) + g.digits(3)
	return body + string(idCheck(body))
}

// idCheck is the GB 11643-1999 check character of the first 17 digits.
func idCheck(body string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// card is a UnionPay (62, 16 or 19 digits) or Visa/Mastercard number
// passing Luhn.
func (g *gen) card() string {
	switch g.r.IntN(4) {
	case 0:
		return withLuhn("4" + g.digits(14))
	case 1:
		return withLuhn("5" + strconv.Itoa(1+g.r.IntN(5)) + g.digits(13))
	case 2:
		return withLuhn("62" + g.digits(16))
	default:
		return withLuhn("62" + g.digits(13))
	}
}

// withLuhn appends the Luhn check digit.
func withLuhn(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return s + strconv.Itoa((10-sum%10)%10)
}

var (
	pinyin  = []string{"zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu", "guo", "he", "lin", "luo", "gao"}
	given   = []string{"wei", "fang", "na", "min", "jing", "lei", "qiang", "jun", "yang", "yan", "jie", "tao", "ming", "chao", "xiu", "hua", "li", "ping"}
	domains = []string{"qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "foxmail.com", "aliyun.com", "corp-mail.cn", "hotmail.com"}
	zhSur   = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高", "欧阳", "司马"}
	zhGiven = []string{"伟", "芳", "娜", "敏", "静", "磊", "强", "军", "洋", "艳", "杰", "涛", "明", "超", "秀英", "华", "丽", "平", "建国", "婷婷", "志强", "海燕"}
	enFirst = []string{"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Emily", "Daniel", "Sarah"}
	enLast  = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark"}
	zhProv  = []string{"北京市朝阳区", "上海市浦东新区", "广东省深圳市南山区", "浙江省杭州市西湖区", "江苏省南京市玄武区", "四川省成都市武侯区", "湖北省武汉市洪山区", "广东省广州市天河区"}
	zhRoad  = []string{"建国路", "人民路", "中山路", "解放大道", "科技园南路", "文三路", "长安街", "滨江大道"}
	enRoad  = []string{"Main Street", "Oak Avenue", "Maple Drive", "Park Road", "Cedar Lane", "Elm Street", "Sunset Boulevard"}
	enCity  = []string{"Springfield, IL", "Austin, TX", "Portland, OR", "Denver, CO", "Columbus, OH"}
)

func (g *gen) email() string {
	local := g.pick(pinyin) + "." + g.pick(given)
	if g.r.IntN(2) == 0 {
		local = g.pick(given) + g.pick(pinyin) + strconv.Itoa(g.r.IntN(1000))
	}
	return local + "@" + g.pick(domains)
}

func (g *gen) ipv4() string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(222), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) zhName() string { return g.pick(zhSur) + g.pick(zhGiven) }

func (g *gen) enName() string { return g.pick(enFirst) + " " + g.pick(enLast) }

func (g *gen) zhAddress() string {
	var b strings.Builder
	b.WriteString(g.pick(zhProv))
	b.WriteString(g.pick(zhRoad))
	b.WriteString(strconv.Itoa(1 + g.r.IntN(999)))
	b.WriteString("号")
	if g.r.IntN(2) == 0 {
		b.WriteString(strconv.Itoa(1+g.r.IntN(30)) + "栋" + strconv.Itoa(101+g.r.IntN(2000)) + "室")
	}
	return b.String()
}

func (g *gen) enAddress() string {
	return strconv.Itoa(1+g.r.IntN(9999)) + " " + g.pick(enRoad) + ", " + g.pick(enCity)
}
