package console

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
)

// routinesAPI answers the statistics page's calls with the figures of the routines, the
// topics and the screening reports; anything else as fakeAPI does.
type routinesAPI struct{ fakeAPI }

func (f *routinesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v1/stats":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"received":12,"by_channel":{"visit":12},"by_category":{"appeal":12},"closed":4,"closed_on_time":3,"on_time_rate":0.75,
			"evaluated":4,"satisfied":2,"satisfaction_rate":0.5,"answered":8,
			"skip_level":2,"repeat_cases":3,"repeat_submissions":5,"joint_proposed":4,"joint_approved":2,"joint_declined":1,"joint_concluded":1,
			"called_back":6,"call_back_rate":0.75,"call_back_reached":3,"call_back_reached_rate":0.5,"evaluated_by_call_back":2,
			"assigned":7,"assignments_overdue":1,
			"screening_rounds":2,"screening_due":2,"screening_on_time":1,"screening_late":1,"screening_on_time_rate":0.5,
			"by_topic":[{"topic":"拖欠工资","category":"appeal","received":5,"closed":2,"overdue_now":1,"evaluated":2,"satisfied":1,"satisfaction_rate":0.5},
				{"topic":"噪声扰民","category":"suggestion","received":0,"closed":1,"overdue_now":0,"evaluated":0,"satisfied":0,"satisfaction_rate":0}]}`)
	case "/api/v1/reports/monthly":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"month":"2026-05","rows":[
			{"unit":"construction","unit_name":"区住房和城乡建设局","answered":4,"called_back":3,"call_back_rate":0.75,"assigned":7,"assignments_overdue":1,
				"joint_proposed":4,"joint_approved":2,"joint_concluded":1,"skip_level":2,"repeat_cases":3,
				"screening_rounds":1,"screening_due":1,"screening_on_time":1,"screening_on_time_rate":1},
			{"unit":"health","unit_name":"区卫生健康局","screening_rounds":1,"screening_due":1,"screening_late":1,"screening_on_time_rate":0},
			{"unit":"district","unit_name":"区人民政府"}]}`)
	default:
		f.fakeAPI.ServeHTTP(w, r)
	}
}

func TestStatsPageRoutines(t *testing.T) {
	api := &routinesAPI{fakeAPI{t: t}}
	c, err := New(Config{API: api, Office: "某区信访局", Zone: shanghai(t)})
	if err != nil {
		t.Fatal(err)
	}
	code, page := do(t, c, "GET", "/stats?month=2026-05", nil)
	if code != http.StatusOK {
		t.Fatalf("stats: %d %s", code, page)
	}
	// The period's figures: call-back rate 6 of 8, reached 3 of 6, screening 1 of 2 on time.
	wantIn(t, page, `id="stats-figures"`, `id="stats-routines"`, "越级访", "75.0%", "6 / 8", "3 / 6", "1 / 2",
		"本期收到重复信访 5 次", "不予联查 1 件", "共评价 4 件",
		// The topics, the category in Chinese.
		`id="chart-topic"`, `id="stats-topics"`, "拖欠工资", "申诉求决", "50.0% (1 / 2)",
		// The screening reports of the units asked to file, not the district's.
		`id="chart-screening"`, `id="stats-screening"`, "逾期报送", "零报告", "100.0% (1 / 1)",
		// Each unit's routines.
		`id="stats-routines-by-unit"`, "75.0% (3 / 4)")
	screening := regexp.MustCompile(`(?s)<table id="stats-screening">.*?</table>`).FindString(page)
	if regexp.MustCompile(`区人民政府`).MatchString(screening) {
		t.Errorf("a unit not asked to file is listed: %s", screening)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="stats-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no chart data")
	}
	var d chartData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatal(err)
	}
	// Topics by received (none received: not drawn); the screening units and their rates.
	if len(d.Topics) != 1 || d.Topics[0].Name != "拖欠工资（申诉求决）" || d.Topics[0].Value != 5 ||
		len(d.ScreeningUnits) != 2 || d.ScreeningUnits[1] != "区卫生健康局" || *d.ScreeningOnTime[0] != 100 || *d.ScreeningOnTime[1] != 0 ||
		d.Text["screening_rate"] != "排查按时报送率" {
		t.Errorf("chart data %+v", d)
	}
}
