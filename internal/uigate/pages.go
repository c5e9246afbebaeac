package uigate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
)

// The gate's pages are self-contained: one inline style block, allowed by its hash, no
// scripts, no external assets, forms posting to this origin only.
const pageStyle = `
body{font-family:system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;background:#f4f5f7;color:#1f2328;margin:0}
main{max-width:22rem;margin:12vh auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:2rem}
h1{font-size:1.3rem;margin:0 0 1.5rem}
label{display:block;font-size:.9rem;margin:1rem 0 .3rem}
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:.5rem;font-size:1rem;border:1px solid #8c959f;border-radius:4px}
button{margin-top:1.5rem;width:100%;padding:.6rem;font-size:1rem;background:#1f6feb;color:#fff;border:0;border-radius:4px;cursor:pointer}
p.msg{background:#ffebe9;border:1px solid #ff8182;border-radius:4px;padding:.6rem;font-size:.9rem}
`

var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

const pageHead = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{{template "title"}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
`

const pageFoot = `</main>
</body>
</html>
`

type loginData struct {
	Message string
	StaffID string
	Next    string
}

var (
	loginPage = template.Must(template.New("login").Parse(pageHead +
		`{{define "title"}}工作人员登录 Staff sign-in{{end}}<h1>工作人员登录 Staff sign-in</h1>
{{with .Message}}<p class="msg" role="alert">{{.}}</p>
{{end}}<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<label for="staff_id">工号 Staff ID</label>
<input type="text" id="staff_id" name="staff_id" value="{{.StaffID}}" autocomplete="username" required autofocus>
<label for="password">密码 Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">登录 Sign in</button>
</form>
` + pageFoot))

	forbiddenPage = template.Must(template.New("forbidden").Parse(pageHead +
		`{{define "title"}}无权查看 Not allowed{{end}}<h1>无权查看 Not allowed</h1>
<p>仅督办人员可在 Web UI 中查看案件。<br>Only supervisors may look at cases in the Web UI.</p>
<form method="post" action="/logout"><button type="submit">退出登录 Sign out</button></form>
` + pageFoot))

	logoutPage = template.Must(template.New("logout").Parse(pageHead +
		`{{define "title"}}退出登录 Sign out{{end}}<h1>退出登录 Sign out</h1>
<form method="post" action="/logout"><button type="submit">退出登录 Sign out</button></form>
` + pageFoot))
)

func renderPage(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "page unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
