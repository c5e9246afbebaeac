package register

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The demo district of SeedDemo, after seed 001's routing table (DOMAIN.md). SEED.md lists
// the same data for people.

type seedBureau struct {
	code, name            string
	head, leader, handler string // staff names
}

// demoBureaus are the district's functional bureaus: each reports to the district government,
// which therefore reviews (复查) their decisions; the city re-reviews (复核).
var demoBureaus = []seedBureau{
	{"construction", "区住房和城乡建设局", "王建国", "陈志强", "刘洋"},
	{"health", "区卫生健康局", "张丽华", "杨帆", "黄磊"},
	{"civil_affairs", "区民政局", "赵文", "孙立", "马骏"},
	{"land", "区自然资源局", "朱德明", "胡静", "郭亮"},
	{"ethnic_religious", "区民族宗教事务局", "何平", "高原", "林涛"},
	{"hrss", "区人力资源和社会保障局", "罗敏", "郑伟", "梁晨"},
	{"family_planning", "区卫生计生服务中心", "谢芳", "宋佳", "唐宁"},
	{"agriculture", "区农业农村局", "许刚", "韩雪", "冯磊"},
	{"safety", "区应急管理局", "邓超", "曹颖", "彭飞"},
	{"court", "区人民法院", "曾宪", "肖琳", "田野"},
	{"urban_management", "区城市管理综合执法局", "董明", "袁博", "潘越"},
	{"environment", "区生态环境局", "蒋清", "蔡蓉", "余洁"},
	{"public_security", "区公安分局", "杜锋", "叶青", "程浩"},
	{"education", "区教育局", "魏红", "苏敏", "吕航"},
	{"discipline", "区纪委监委", "丁正", "任直", "沈廉"},
}

// demoUnits are the units above the bureaus, parents first (the FK is deferred anyway).
var demoUnits = []Unit{
	{Code: "province", Name: "省人民政府", Head: "head.province", Leader: "head.province", Email: "province@demo.example"},
	{Code: "city", Name: "市人民政府", Parent: "province", Head: "head.city", Leader: "leader.city", Email: "city@demo.example"},
	{Code: "district", Name: "区人民政府", Parent: "city", Head: "head.district", Leader: "leader.district", Email: "district@demo.example"},
	{Code: "petition_office", Name: "区信访局", Parent: "district", Head: "head.petition_office", Leader: "leader.petition_office", Email: "petition_office@demo.example"},
}

var demoStaff = []Staff{
	{ID: "head.province", Name: "钱振华", Role: "leader", Unit: "province", Phone: "13800000001"},
	{ID: "reviewer.province", Name: "江慧", Role: "reviewer", Unit: "province", Phone: "13800000002"},
	{ID: "head.city", Name: "周国栋", Role: "leader", Unit: "city", Phone: "13800000011"},
	{ID: "leader.city", Name: "吴春梅", Role: "leader", Unit: "city", Phone: "13800000012"},
	{ID: "reviewer.city", Name: "吴刚", Role: "reviewer", Unit: "city", Phone: "13800000013"},
	{ID: "head.district", Name: "郑和平", Role: "leader", Unit: "district", Phone: "13800000021"},
	{ID: "leader.district", Name: "王秀英", Role: "leader", Unit: "district", Phone: "13800000022"},
	{ID: "reviewer.district", Name: "周敏", Role: "reviewer", Unit: "district", Phone: "13800000023"},
	{ID: "head.petition_office", Name: "陈静", Role: "leader", Unit: "petition_office", Phone: "13800000031"},
	{ID: "leader.petition_office", Name: "李国强", Role: "leader", Unit: "petition_office", Phone: "13800000032"},
	{ID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office", Phone: "13800000033"},
	{ID: "clerk.wang", Name: "王芳", Role: "clerk", Unit: "petition_office", Phone: "13800000034"},
	{ID: "supervisor.zhao", Name: "赵强", Role: "supervisor", Unit: "petition_office", Phone: "13800000035"},
	// The office's administrator: staff, tokens, units, routing rules, calendars, policies; no case content.
	{ID: "admin.office", Name: "系统管理员", Role: "admin", Unit: "petition_office", Phone: ""},
}

// demoRules are seed 001's routing table in English and Chinese keywords. Specific phrases
// that contain a broader keyword of another unit get a higher priority ("illegal
// construction" is urban management, "construction" the construction bureau).
var demoRules = []struct {
	unit     string
	priority int
	keywords []string
}{
	{"construction", 10, []string{"construction", "demolition", "relocation", "wage", "城建", "建设", "拆迁", "安置", "工资", "欠薪"}},
	{"health", 10, []string{"medical", "health", "hospital", "医疗", "卫生", "医院", "医患"}},
	{"civil_affairs", 10, []string{"village affairs", "election", "subsistence", "veteran", "村务", "选举", "低保", "退役军人", "优抚"}},
	{"land", 10, []string{"land", "homestead", "requisition", "征地", "宅基地", "土地"}},
	{"ethnic_religious", 10, []string{"ethnic", "religio", "民族", "宗教"}},
	{"hrss", 10, []string{"labour", "labor", "social insurance", "pension", "劳动", "社保", "社会保险", "养老"}},
	{"family_planning", 10, []string{"family planning", "计划生育", "计生"}},
	{"agriculture", 20, []string{"rural finance", "land contract", "农村财务", "土地承包"}},
	{"safety", 10, []string{"workplace safety", "safety", "安全生产"}},
	{"court", 10, []string{"litigation", "lawsuit", "court", "涉法", "涉诉", "诉讼", "法院"}},
	{"urban_management", 20, []string{"illegal construction", "city enforcement", "违建", "违章建筑", "违法建设", "城管"}},
	{"environment", 10, []string{"environment", "pollution", "noise", "环境", "污染", "环保", "噪音"}},
	{"public_security", 10, []string{"police", "policing", "public security", "公安", "治安", "派出所"}},
	{"education", 10, []string{"school", "teacher", "education", "学校", "教师", "教育"}},
	{"discipline", 10, []string{"misconduct", "corruption", "official", "腐败", "违纪", "作风", "纪检"}},
}

// SeedDemo loads the demo district (SEED.md): units, staff and routing rules. It upserts, so
// running it again restores the demo values and adds nothing twice.
func (s *Store) SeedDemo(ctx context.Context) error {
	units := append([]Unit(nil), demoUnits...)
	staff := append([]Staff(nil), demoStaff...)
	for i, b := range demoBureaus {
		units = append(units, Unit{Code: b.code, Name: b.name, Parent: "district",
			Head: "head." + b.code, Leader: "leader." + b.code, Email: b.code + "@demo.example"})
		staff = append(staff,
			Staff{ID: "head." + b.code, Name: b.head, Role: "leader", Unit: b.code, Phone: fmt.Sprintf("139%08d", i*10+1)},
			Staff{ID: "leader." + b.code, Name: b.leader, Role: "leader", Unit: b.code, Phone: fmt.Sprintf("139%08d", i*10+2)},
			Staff{ID: "handler." + b.code, Name: b.handler, Role: "handler", Unit: b.code, Phone: fmt.Sprintf("139%08d", i*10+3)},
		)
	}

	batch := &pgx.Batch{}
	for _, u := range units {
		var parent *string
		if u.Parent != "" {
			parent = &u.Parent
		}
		batch.Queue(`INSERT INTO units (code, name, parent, head, leader, email)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, parent = EXCLUDED.parent,
				head = EXCLUDED.head, leader = EXCLUDED.leader, email = EXCLUDED.email`,
			u.Code, u.Name, parent, u.Head, u.Leader, u.Email)
	}
	for _, st := range staff {
		batch.Queue(`INSERT INTO staff (id, name, role, unit, phone) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,
				unit = EXCLUDED.unit, phone = EXCLUDED.phone`,
			st.ID, st.Name, st.Role, st.Unit, st.Phone)
	}
	for _, r := range demoRules {
		for _, kw := range r.keywords {
			// Category NULL: the demo rules route by topic alone.
			batch.Queue(`INSERT INTO routing_rules (keyword, category, unit, priority)
				VALUES ($1, NULL, $2, $3)
				ON CONFLICT ON CONSTRAINT routing_rules_keyword_category_key
				DO UPDATE SET unit = EXCLUDED.unit, priority = EXCLUDED.priority`,
				kw, r.unit, r.priority)
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
}
