package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// What the registration form and the pickers of a staff client ask while a clerk types: has
// this person petitioned before, which unit would routing suggest, who works where.

// knownParams refuses every query parameter not in known, naming it.
func knownParams(c *gin.Context, known ...string) fieldErrors {
	f := fieldErrors{}
	for name := range c.Request.URL.Query() {
		if !contains(known, name) {
			f[name] = "unknown parameter; known: " + strings.Join(known, ", ")
		}
	}
	return f
}

// lookupCase is a case as the look-up shows it: no content, no petitioners.
type lookupCase struct {
	CaseNo       string    `json:"case_no"`
	Stage        string    `json:"stage"`
	Category     string    `json:"category"`
	Topic        string    `json:"topic"`
	Unit         string    `json:"unit"`
	RegisteredAt time.Time `json:"registered_at"`
}

// lookupPurpose is what the record of personal-data reads says of a look-up.
const lookupPurpose = "GET /api/v1/petitioners/lookup"

// lookupPetitioner answers "has this person petitioned before?" at registration: the cases
// with a petitioner of the same ID number or phone (keyed hashes, never the plain values),
// newest first, and the case a registration of this category and topic would be taken for
// a repeat of. The ID number and phone are not echoed back. A look-up that found cases is
// recorded among the personal-data reads, one entry per case.
func (s *Server) lookupPetitioner(c *gin.Context) {
	f := knownParams(c, "id_number", "phone", "name", "category", "topic")
	q := c.Request.URL.Query()
	pet := register.Petitioner{
		Name:     strings.TrimSpace(q.Get("name")),
		IDNumber: strings.ToUpper(strings.TrimSpace(q.Get("id_number"))),
		Phone:    strings.TrimSpace(q.Get("phone")),
	}
	category, topic := strings.TrimSpace(q.Get("category")), strings.TrimSpace(q.Get("topic"))
	if pet.IDNumber == "" && pet.Phone == "" {
		f["id_number"] = "an ID number or a phone number is required (a name alone does not tell people apart)"
	}
	if pet.IDNumber != "" {
		if !validText(pet.IDNumber) {
			f["id_number"] = "must be valid UTF-8 text without control characters"
		} else if msg := validIDNumber(pet.IDNumber, s.now().In(shanghai)); msg != "" {
			f["id_number"] = msg
		}
	}
	if pet.Phone != "" && (len(pet.Phone) > maxPhone || !validPhone(pet.Phone)) {
		f["phone"] = "is not a phone number"
	}
	if msg := textProblem(pet.Name, maxName); msg != "" {
		f["name"] = msg
	}
	if category != "" && !contains(categories, category) {
		f["category"] = oneOf(categories)
	}
	if msg := textProblem(topic, maxTopic); msg != "" {
		f["topic"] = msg
	} else if topic != "" && category == "" {
		f["category"] = "is required with topic (repeat detection keeps accusations apart): " + oneOf(categories)
	}
	if len(f) > 0 {
		s.fail(c, f)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	scope, err := s.caseScope(ctx, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	role := workflows.Role(p.Role)
	found, err := s.reg.PetitionerCases(ctx, register.PetitionerQuery{
		IDNumber: pet.IDNumber, Phone: pet.Phone, Scope: scope,
		ExcludeAccusations: !seesIdentity(role, categoryAccusation),
		Limit:              register.LookupLimit,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	var repeatOf any // null unless a registration would be linked (or refused) as a repeat
	if topic != "" && seesIdentity(role, category) {
		prior, ok, err := s.reg.FindRepeat(ctx, []register.Petitioner{pet}, category, topic)
		if err != nil {
			s.fail(c, err)
			return
		}
		// Registration links a repeat to a case still open and refuses one of a terminated
		// matter (answeredAsRepeat); after any other end the petition becomes a new case.
		stage := workflows.Stage(prior.Stage)
		if ok && inScope(scope, prior) && (!stage.Final() || stage == workflows.StageTerminated) {
			repeatOf = prior.CaseNo
		}
	}
	cases := make([]lookupCase, len(found))
	for i, fc := range found {
		unit := fc.Unit
		if unit == "" {
			unit = fc.SuggestedUnit
		}
		cases[i] = lookupCase{CaseNo: fc.CaseNo, Stage: fc.Stage, Category: fc.Category, Topic: fc.Topic,
			Unit: unit, RegisteredAt: fc.RegisteredAt}
		if err := s.reg.RecordPersonalDataRead(ctx, p.StaffID, fc.CaseNo, lookupPurpose); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.Header("Cache-Control", "no-store")
	s.answer(c, http.StatusOK, gin.H{"cases": cases, "repeat_of": repeatOf})
}

// routingSuggestion answers the unit the routing rules propose for a topic and category, the
// same proposal registration makes (Register.Route), or {"unit": null} when no rule matches.
func (s *Server) routingSuggestion(c *gin.Context) {
	f := knownParams(c, "topic", "category")
	q := c.Request.URL.Query()
	topic, category := strings.TrimSpace(q.Get("topic")), strings.TrimSpace(q.Get("category"))
	if topic == "" {
		f["topic"] = "is required"
	} else if msg := textProblem(topic, maxTopic); msg != "" {
		f["topic"] = msg
	}
	if category != "" && !contains(categories, category) {
		f["category"] = oneOf(categories)
	}
	if len(f) > 0 {
		s.fail(c, f)
		return
	}
	ctx := c.Request.Context()
	code, err := s.reg.Route(ctx, category, topic)
	if errors.Is(err, register.ErrNotFound) || err == nil && code == "" {
		s.answer(c, http.StatusOK, gin.H{"unit": nil})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	name := ""
	if u, err := s.reg.Unit(ctx, code); err == nil {
		name = u.Name
	} else if !errors.Is(err, register.ErrNotFound) {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, gin.H{"unit": code, "unit_name": name})
}

// staffRoles are the roles a member of staff may have: those authz.go gives a scope.
func staffRoles() []string {
	out := make([]string, 0, len(scopes))
	for r := range scopes {
		out = append(out, string(r))
	}
	slices.Sort(out)
	return out
}

// staffEntry is a member of staff as pickers show them: no phone.
type staffEntry struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	Unit string `json:"unit"`
}

// staffDirectory lists the enabled staff, of one unit and/or role when asked, for pickers.
func (s *Server) staffDirectory(c *gin.Context) {
	f := knownParams(c, "unit", "role")
	q := c.Request.URL.Query()
	unit, role := strings.TrimSpace(q.Get("unit")), strings.TrimSpace(q.Get("role"))
	if len(unit) > 64 || !validText(unit) {
		f["unit"] = "is not a unit code"
	}
	if roles := staffRoles(); role != "" && !contains(roles, role) {
		f["role"] = oneOf(roles)
	}
	if len(f) > 0 {
		s.fail(c, f)
		return
	}
	list, err := s.reg.StaffDirectory(c.Request.Context(), unit, role)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]staffEntry, len(list))
	for i, st := range list {
		out[i] = staffEntry{ID: st.ID, Name: st.Name, Role: st.Role, Unit: st.Unit}
	}
	s.answer(c, http.StatusOK, gin.H{"staff": out})
}
