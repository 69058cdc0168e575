package detect

import (
	"strings"
	"unicode/utf8"
)

// Chinese text: licence plates, personal names and postal addresses open
// with a Chinese character; a table of flags over the CJK block says which
// characters may open one, so ordinary prose costs a table lookup per
// character.

const (
	fProvince  uint8 = 1 << iota // plate prefix: 京 沪 粤 …
	fSurname                     // may open a name
	fAddrStart                   // opens a gazetteer entry
	fAddrMark                    // road, number, building: 路 街 号 楼 …
	fAddrEnd                     // an address may end on it
	fNameStop                    // never part of a given name
	fTrigEnd                     // ends a word after which a name follows
	fCompound                    // opens a compound surname: 欧 (欧阳), 司 (司马) …
)

const cjkLo, cjkHi = 0x4E00, 0x9FFF

var cjkFlags [cjkHi - cjkLo + 1]uint8

const (
	provinceAbbrs = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
	surnames      = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
	// Compound surnames are tried before single ones.
	addrMarks = "路街道巷弄号室楼层座栋幢村镇乡园厦苑院府里"
	addrEnds  = "号室楼层座栋幢村镇乡园厦苑院府里区城场心站庄屯"
	nameStops = "的是于在和与及等了已将把被给向从对为说收代确提出前后同请今电手邮地先女生您你我他她们这那有也都就要会能可到去来上下中不没很还并或而但因所以如若号码证卡址话机箱联系人名字称负责经理总部公司工作客户用员日月年时分处办审核认交表会议通知联络发送信息资料各位姐"
)

var compoundSurnames = []string{"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "夏侯", "尉迟", "公孙", "长孙", "宇文", "司徒", "端木", "独孤", "南宫", "西门", "轩辕", "呼延"}

// gazetteer holds province-level names and large cities; an address opens with one.
var gazetteer = map[rune][]string{}

var gazetteerNames = strings.Fields(`
北京 天津 上海 重庆 河北 山西 内蒙古 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 广西 海南 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 香港 澳门
深圳 广州 杭州 南京 成都 武汉 西安 苏州 长沙 郑州 东莞 青岛 沈阳 宁波 昆明 大连 厦门 合肥 佛山 福州 哈尔滨 济南 温州 长春 石家庄 常州 泉州 南宁 贵阳 南昌 南通 金华 徐州 太原 嘉兴 烟台 惠州 保定 台州 中山 绍兴 乌鲁木齐 潍坊 兰州 珠海 无锡 海口 三亚 拉萨 银川 西宁 呼和浩特 扬州 镇江 芜湖 洛阳 唐山 汕头 江门 湛江 桂林 柳州 绵阳 宜昌 襄阳 岳阳 株洲 赣州 九江 威海 淄博 临沂 济宁 邯郸 廊坊 秦皇岛 包头 鄂尔多斯 大庆 吉林 延边
浦东 海淀 朝阳 东城 西城 丰台 徐汇 静安 黄浦 长宁 闵行 天河 越秀 番禺 南山 福田 罗湖 宝安 龙岗 西湖 余杭 滨江 鼓楼 玄武 武侯 锦江 高新 江北 渝中
`)

func init() {
	set := func(chars string, f uint8) {
		for _, r := range chars {
			if r >= cjkLo && r <= cjkHi {
				cjkFlags[r-cjkLo] |= f
			}
		}
	}
	set(provinceAbbrs, fProvince)
	set(surnames, fSurname)
	for _, c := range compoundSurnames {
		set(c[:3], fCompound)
	}
	set(addrMarks, fAddrMark)
	set(addrEnds, fAddrEnd)
	set(nameStops, fNameStop)
	for _, w := range append(append([]string(nil), nameTriggers...), nameWeak...) {
		r, _ := utf8.DecodeLastRuneInString(w)
		set(string(r), fTrigEnd)
	}
	for _, g := range gazetteerNames {
		r, _ := utf8.DecodeRuneInString(g)
		set(g, 0)
		cjkFlags[r-cjkLo] |= fAddrStart
		gazetteer[r] = append(gazetteer[r], g)
	}
}

// cjkAt decodes a three-byte character in the CJK block at s[i] and returns
// it with its flags, or 0, 0.
func cjkAt(s string, i int) (rune, uint8) {
	if i+2 >= len(s) || s[i] < 0xE4 || s[i] > 0xE9 || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 {
		return 0, 0
	}
	r := rune(s[i]&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
	if r < cjkLo || r > cjkHi {
		return 0, 0
	}
	return r, cjkFlags[r-cjkLo]
}

// cjk tries the matchers a Chinese character at s[i] may open and returns
// where the scanner goes on, or 0 when none matched.
func (sc *scanner) cjk(i int) int {
	r, f := cjkAt(sc.s, i)
	if r == 0 {
		return 0
	}
	if f&fProvince != 0 {
		if e := sc.plate(i); e > 0 {
			return e
		}
	}
	if f&fAddrStart != 0 {
		if e := sc.address(i, r); e > 0 {
			return e
		}
	}
	if f&(fSurname|fCompound) != 0 || afterTrigger(sc.s, i) {
		if e := sc.name(i); e > 0 {
			return e
		}
	}
	return 0
}

// plate reads a licence plate: a province character, a letter, then five
// characters (six for new-energy vehicles), a middle dot allowed after the letter.
func (sc *scanner) plate(i int) int {
	s := sc.s
	j := i + 3
	if j >= len(s) {
		return 0
	}
	c, n := normAt(s, j)
	if c < 'A' || c > 'Z' {
		return 0
	}
	j += n
	if strings.HasPrefix(s[j:], "·") {
		j += len("·")
	} else if j < len(s) && s[j] == ' ' {
		j++
	}
	k := 0
	for j < len(s) && k < 7 {
		c, n := normAt(s, j)
		if !(c >= 'A' && c <= 'Z' || isDigit(c)) {
			break
		}
		j += n
		k++
	}
	if k < 5 || k > 6 {
		return 0
	}
	if j < len(s) {
		if c, _ := normAt(s, j); isAlnum(c) {
			return 0
		}
	}
	sc.emit(i, j, DetPlate, 0.85, false)
	return j
}

// listNext returns where the next name of a list starts after s[:j]
// (、, 和, 与 or 及 and a surname), or -1.
func listNext(s string, j int) int {
	for _, sep := range []string{"、", "和", "与", "及"} {
		if strings.HasPrefix(s[j:], sep) {
			if _, f := cjkAt(s, j+len(sep)); f&(fSurname|fCompound) != 0 {
				return j + len(sep)
			}
		}
	}
	return -1
}

// nameTrigger reports whether s ends with a strong or a weak trigger.
func nameTrigger(s string) (strong, weak bool) {
	for _, w := range notTriggers {
		if strings.HasSuffix(s, w) {
			return false, false
		}
	}
	for _, w := range nameTriggers {
		if strings.HasSuffix(s, w) {
			return true, false
		}
	}
	for _, w := range nameWeak {
		if strings.HasSuffix(s, w) {
			return false, true
		}
	}
	return false, false
}

// notTriggers end with a trigger and are none: 申请 is no 请.
var notTriggers = []string{"申请", "邀请", "聘请", "提请", "报请", "恳请", "敬请", "宴请"}

// afterTrigger reports whether the character before s[i] (spaces, colons
// and quotes aside) may end a name trigger.
func afterTrigger(s string, i int) bool {
	p := i
	for p > 0 && (s[p-1] == ' ' || s[p-1] == ':' || s[p-1] == '"' || s[p-1] == '=') {
		p--
	}
	if p >= 3 && s[p-3:p] == "：" {
		p -= 3
	}
	if p >= 3 {
		if _, f := cjkAt(s, p-3); f&fTrigEnd != 0 {
			return true
		}
	}
	return p > 0 && (s[p-1] == 'e' || s[p-1] == 'E')
}

// nameTriggers are the words after which a name follows: 姓名：张三, 联系人
// 李四. After a strong one the name needs nothing more; after a weak one
// (请, 由, 用户 …) a word in namePost, punctuation or a space must follow it.
var (
	nameTriggers = []string{"姓名", "名字", "联系人", "收件人", "收货人", "寄件人", "签收人", "我叫", "经办人", "对接人", "负责人", "持卡人", "申请人", "法人", "户主", "资料", "称呼", "乘车人", "就诊人", "被保险人", "投保人", "开户人", "开户名", "name", "Name"}
	nameWeak     = []string{"我是", "用户", "客户", "员工", "患者", "乘客", "销售", "联系", "请", "由", "致", "尊敬的", "业主", "学生", "家长", "老师", "同事", "经理"}
)

// notNames are common words that open with a surname character: 方式,
// 时间, 安全 … A name candidate opening with one is no name.
var notNames = strings.Fields(`
方式 方法 方面 方案 方便 方向 时间 时区 时候 时长 时段 时效 安全 安装 安排 包括 包含 白皮书 文件 文化 文字 文档 高级 高效 高于 明确 明细 周期 周围 程序 程度
关于 关系 关注 关闭 成功 成为 成本 成员 管理 常见 常用 华为 平台 应用 全部 全面 全国 金额 金融 马上 路线 路由 项目 车辆 车型 黄金 万元 万一 史上 卫生 易用 商品 商家
商户 简单 简介 单位 单独 向您 解决 解释 邮件 王者 张贴 李子 陈述 杨树 黄色 周末 周边 高度 林业 罗列 郑重 梁柱 谢谢 宋体 许可 韩国 冯氏 邓氏 曹操 彭博 曾经 田地
董事 袁氏 潘多 于是 于此 蒋氏 蔡氏 余下 杜绝 叶子 程式 苏醒 魏晋 吕氏 丁香 任何 任务 任意 沈阳 姚氏 卢比 姜黄 崔氏 钟点 谭氏 陆续 陆地 汪洋 范围 范例 金属 石头 廖氏
贾氏 夏天 夏季 韦氏 付款 付费 方可 白天 白色 邹氏 孟氏 熊猫 秦朝 邱氏 江苏 江西 尹氏 薛氏 段落 雷达 侯爵 龙头 史料 陶瓷 黎明 贺卡 顾客 顾问 毛利 郝氏 龚氏 邵氏 万能
钱包 严格 严重 覃氏 武器 戴上 莫名 孔雀 向上 向下 汤圆 常规 温度 温馨 康复 施工 文明 牛奶 樊氏 葛氏 邢氏 安心 齐全 易于 乔氏 伍氏 庞大 颜色 倪氏 庄园 聂氏 章节 鲁棒
岳父 翟氏 殷勤 詹氏 申请 申报 欧元 欧洲 耿直 关联 兰花 焦点 俞氏 左侧 柳树 甘肃 祝福 包装 宁可 尚未 符合 舒适 阮氏 柯氏 纪录 梅花 童年 凌晨 毕业 单元 季度 裴氏 霍乱
涂料 成年 苗条 谷歌 盛大 曲线 翁氏 冉氏 骆驼 蓝色 蓝牙 路径 游戏 游客 辛苦 靳氏 管道 柴油 蒙古 鲍鱼 华人 喻氏 祁氏 蒲公 房间 房屋 滕氏 屈服 饶恕 解析 牟利 艾滋 尤其
阳光 时刻 穆斯 农业 司法 卓越 古代 吉祥 缪氏 简化 车主 项链 连接 连续 芦苇 麦克 褚氏 娄氏 窦氏 戚氏 岑氏 景区 党员 宫殿 费用 卜卦 冷静 晏氏 席位 卫星 米兰 柏林 宗教
瞿氏 桂花 全体 佟氏 应当 应该 臧氏 闵行 苟且 邬氏 边界 边缘 卞氏 姬氏 师傅 和平 和谐 仇恨 栾氏 隋朝 商业 刁难 沙漠 荣誉 巫师 寇氏 桑拿 郎中 甄别 丛林 仲裁 虞氏 敖包
巩固 明天 明年 佘氏 池塘 查询 查看 麻烦 苑氏 迟到 邝氏 信息 安卓 高新 余杭 成都 常州 温州 金华 江门 包头 连云 安徽 台湾 宁波 宁夏 龙岗 罗湖 黄浦 长宁 高速 管理员
`)

// namePost are the words that may follow a name: 张先生, 李四收.
var namePost = []string{"先生", "女士", "小姐", "同学", "老师", "收", "代表", "确认", "负责", "提交", "出席", "表示", "已", "将", "的", "于", "在"}

// name reads a Chinese personal name after a trigger word: a surname (one
// or two characters) and one or two more characters, or a transliterated
// name joined by a middle dot (买买提·阿凡提).
func (sc *scanner) name(i int) int {
	s := sc.s
	p := i
	for p > 0 {
		switch {
		case s[p-1] == ' ' || s[p-1] == ':' || s[p-1] == '"' || s[p-1] == '=':
			p--
			continue
		case p >= 3 && s[p-3:p] == "：":
			p -= 3
			continue
		}
		break
	}
	strong, weak := sc.inList, false
	if !strong && afterTrigger(s, i) {
		strong, weak = nameTrigger(s[:p])
	}
	bare := !strong && !weak
	// Without a trigger a name needs a word after it and no Chinese
	// character or letter before it: "，赵敏收。".
	if bare && p > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:p]); r >= cjkLo && r <= cjkHi || isAlnum(s[p-1]) {
			return 0
		}
	}
	// A transliterated name: characters joined by middle dots.
	if e := dottedName(s, i); e > 0 && !bare {
		sc.emit(i, e, DetPersonName, 0.7, false)
		return e
	}
	_, f := cjkAt(s, i)
	compound := false
	for _, c := range compoundSurnames {
		if strings.HasPrefix(s[i:], c) {
			compound = true
			break
		}
	}
	if f&fSurname == 0 && !compound {
		return 0
	}
	// "姓名和身份证号": a conjunction straight after the word, no name.
	if p == i && strings.ContainsRune("和与及或等", rune0(s[i:])) {
		return 0
	}
	if r, _ := utf8.DecodeRuneInString(s[i:]); f&fAddrStart != 0 {
		for _, g := range gazetteer[r] {
			if strings.HasPrefix(s[i:], g) {
				return 0 // 武汉…, 江苏…: a place
			}
		}
	}
	for _, w := range notNames {
		if strings.HasPrefix(s[i:], w) {
			return 0
		}
	}
	j := i + 3
	if compound {
		j = i + 6
	}
	given := 0
	for given < 2 {
		_, gf := cjkAt(s, j)
		r, _ := utf8.DecodeRuneInString(s[j:])
		if r < cjkLo || r > cjkHi || gf&fNameStop != 0 {
			break
		}
		j += 3
		given++
	}
	if given == 0 {
		return 0
	}
	post, word := j == len(s), false
	if !post {
		if r, _ := utf8.DecodeRuneInString(s[j:]); r < cjkLo || r > cjkHi {
			post = true // punctuation, a digit or a space ends it
		}
	}
	for _, w := range namePost {
		if strings.HasPrefix(s[j:], w) {
			post, word = true, true
		}
	}
	switch {
	case strong:
		sc.emit(i, j, DetPersonName, 0.8, false)
		// A list after the word: 联系人：张三、李四和王五.
		for !sc.inList {
			k := listNext(s, j)
			if k < 0 {
				break
			}
			sc.inList = true
			e := sc.name(k)
			sc.inList = false
			if e == 0 {
				break
			}
			j = e
		}
	case weak && post:
		sc.emit(i, j, DetPersonName, 0.7, false)
	case bare && word && (strings.HasPrefix(s[j:], "先生") || strings.HasPrefix(s[j:], "女士") || strings.HasPrefix(s[j:], "小姐") || strings.HasPrefix(s[j:], "收")):
		sc.emit(i, j, DetPersonName, 0.6, false)
	default:
		return 0
	}
	return j
}

func rune0(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// dottedName returns the end of a name like 买买提·阿凡提 at s[i:], or 0.
func dottedName(s string, i int) int {
	j, dots, chars, part := i, 0, 0, 0
	for j < len(s) && chars < 12 {
		if strings.HasPrefix(s[j:], "·") {
			if part == 0 || dots > 2 {
				break
			}
			j += len("·")
			dots++
			part = 0
			continue
		}
		r, n := utf8.DecodeRuneInString(s[j:])
		if r < cjkLo || r > cjkHi {
			break
		}
		if _, f := cjkAt(s, j); f&fNameStop != 0 && dots > 0 && part > 2 {
			break
		}
		j += n
		chars++
		part++
	}
	if dots == 0 || part == 0 {
		return 0
	}
	return j
}

// addrStops end an address: the words that start the next field.
var addrStops = []string{"公司", "法院", "邮编", "电话", "手机", "联系", "收件", "收货", "的", "，", "。", "、", "；", "："}

// address reads a postal address opening with a gazetteer name: Chinese
// characters, digits and letters (a space allowed before a digit or a
// number word), ending on a building, number or area character, holding
// at least one road, number or building mark.
func (sc *scanner) address(i int, r rune) int {
	s := sc.s
	ok := false
	for _, g := range gazetteer[r] {
		if strings.HasPrefix(s[i:], g) {
			ok = true
			break
		}
	}
	if !ok {
		return 0
	}
	j, runes, lastEnd, marks := i, 0, 0, 0
	for j < len(s) && runes < 40 {
		stop := false
		for _, w := range addrStops {
			if strings.HasPrefix(s[j:], w) {
				stop = true
				break
			}
		}
		if stop {
			break
		}
		c, n := normAt(s, j)
		switch {
		case c == 0:
			rr, f := cjkAt(s, j)
			if rr == 0 {
				goto done
			}
			if f&fAddrMark != 0 {
				marks++
			}
			if f&fAddrEnd != 0 {
				lastEnd = j + n
			}
		case isAlnum(c) || c == '-' || c == '#':
		case c == ' ':
			nc := byte(0)
			if j+1 < len(s) {
				nc, _ = normAt(s, j+1)
			}
			if !isDigit(nc) {
				_, f := cjkAt(s, j+1)
				if f&(fAddrMark|fAddrEnd) == 0 && runes > 12 {
					goto done
				}
			}
		default:
			goto done
		}
		j += n
		runes++
	}
done:
	if lastEnd == 0 || marks == 0 || lastEnd-i < 4*3 {
		return 0
	}
	conf := 0.7
	if sc.context(i)&ctxAddress != 0 {
		conf = 0.85
	}
	sc.emit(i, lastEnd, DetAddress, conf, false)
	return lastEnd
}
