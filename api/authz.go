package api

import (
	"context"
	"slices"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Authorisation, in one place. Three questions, three tables:
//
//  1. May this role use this endpoint at all?                        → permissions
//  2. Which cases does this person see and act on?                   → scopes
//  3. May this person see the petitioners' identity on this case?    → seesIdentity
//
// Reads are scoped exactly like writes: a case outside a person's scope answers 404 (not 403),
// so case numbers cannot be probed. The workflow's validators check role and unit again on
// every action (workflows/actions.go): the API is not the only gate.
//
// The petitioner is not a staff role here: petitioners act through the public self-service
// endpoints with their case number and query code (selfservice.go).

// permission is what an endpoint needs.
type permission string

const (
	permReadCases   permission = "read cases"               // lists, one case, events, deadlines
	permRegister    permission = "register petitions"       // POST /petitions, GET /petitioners/lookup (the registration form)
	permAct         permission = "act on cases"             // POST /petitions/{no}/{action}; the workflow decides which action
	permStats       permission = "read statistics"          // /stats, /reports/monthly{,.csv,.xlsx}
	permReissueCode permission = "reissue query codes"      // POST /petitions/{no}/query-code
	permDirectory   permission = "read the directory"       // units, staff, routing rules and suggestions, calendars, policies
	permAdminister  permission = "administer"               // staff, tokens, units, routing rules, calendars, policies, audit
	permCodec       permission = "decode workflow payloads" // the codec server behind the Temporal Web UI
	// permImport: bringing an office's running cases in from its earlier system (补录,
	// POST /petitions/import). The petition office's work, as registration is: its clerks,
	// and its supervisors, who answer for the whole agency's cases on the day of the switch.
	permImport permission = "import running cases"
	// Monthly dispute screening (矛盾纠纷排查, screening.go): the petition office reads every
	// unit's report and turns a listed dispute into a case (registration's work: its clerks);
	// a unit's leader or handler files the unit's report (the round's validator checks the
	// unit) and reads it.
	permScreeningRead permission = "read screening rounds"
	permScreeningFile permission = "file screening reports"
	permScreeningCase permission = "turn screening disputes into cases"
	// Leader reception days (领导接访日, reception.go): every staff role reads the schedule
	// (published to the public anyway); the petition office publishes and cancels days and
	// books appointments; a clerk, or the day's leader, records the visit received (or the
	// no-show); a leader reads the appointments and the reception record of their own days,
	// the petition office everyone's.
	permReceptionRead    permission = "read reception days"
	permReceptionManage  permission = "manage reception days and appointments"
	permReceptionReceive permission = "receive visits on reception days"
	permReceptionRecord  permission = "read reception appointments and records"
)

var (
	clerk      = workflows.RoleClerk
	handler    = workflows.RoleHandler
	leader     = workflows.RoleLeader
	supervisor = workflows.RoleSupervisor
	reviewer   = workflows.RoleReviewer
	admin      = workflows.RoleAdmin
)

// permissions: role × endpoint. The admin manages the office but reads no case content.
var permissions = map[permission][]workflows.Role{
	permReadCases: {clerk, supervisor, handler, leader, reviewer},
	permRegister:  {clerk},
	permAct:       {clerk, supervisor, handler, leader, reviewer},
	// Statistics count cases by handling unit; reviewers' cases are those under review by
	// their unit, which no unit's figures match, so they have none.
	permStats:       {clerk, supervisor, handler, leader},
	permReissueCode: {clerk, supervisor},
	permDirectory:   {clerk, supervisor, handler, leader, reviewer, admin},
	permAdminister:  {admin},
	permCodec:       {supervisor},
	permImport:      {clerk, supervisor},
	// Scoped like cases: the office sees every unit, a handler their unit, a leader their tree.
	permScreeningRead: {clerk, supervisor, handler, leader},
	permScreeningFile: {handler, leader},
	permScreeningCase: {clerk},
	// Leaders see their own days only (reception.go), like a case outside the scope: 404.
	permReceptionRead:    {clerk, supervisor, handler, leader, reviewer, admin},
	permReceptionManage:  {clerk, supervisor},
	permReceptionReceive: {clerk, leader},
	permReceptionRecord:  {clerk, supervisor, leader},
}

// scopeKind is how far a role's view of cases reaches.
type scopeKind int

const (
	scopeNone       scopeKind = iota // no cases (admin)
	scopeAgency                      // every case of the petition agency (the petition office's clerks and supervisors)
	scopeOwnUnit                     // cases whose handling (or routed) unit is the person's unit
	scopeUnitTree                    // … the person's unit or any unit below it
	scopeReviewUnit                  // cases under review or re-review by the person's unit
)

// scopes: role × cases. "Handling unit" is the unit a case was accepted into, or before
// acceptance the unit the routing rules proposed (register.Case ledger unit), so a leader sees
// the cases waiting for their unit to accept them.
var scopes = map[workflows.Role]scopeKind{
	clerk:      scopeAgency,
	supervisor: scopeAgency,
	handler:    scopeOwnUnit,
	leader:     scopeUnitTree,
	reviewer:   scopeReviewUnit,
	admin:      scopeNone,
}

// seesIdentity: who sees the petitioners' names, ID numbers, phones and addresses. For
// accusations (检举控告) the handling unit's staff never do: the 信访工作条例 forbids passing an
// accuser's identity or materials to the accused person or unit. Only the petition office and
// the reviewers see them.
func seesIdentity(role workflows.Role, category string) bool {
	if category != categoryAccusation {
		return role != admin
	}
	return role == clerk || role == supervisor || role == reviewer
}

const categoryAccusation = "accusation"

func allowed(p Principal, perm permission) bool {
	return slices.Contains(permissions[perm], workflows.Role(p.Role))
}

// caseScope is the register filter of the cases p sees; nil means every case.
func (s *Server) caseScope(ctx context.Context, p Principal) (*register.Scope, error) {
	switch scopes[workflows.Role(p.Role)] {
	case scopeAgency:
		return nil, nil
	case scopeOwnUnit:
		return &register.Scope{LedgerUnits: []string{p.Unit}}, nil
	case scopeUnitTree:
		// The petition office's leaders (信访局领导) oversee every case: they decide joint
		// investigations (联查) and receive petitioners on reception days, whatever the unit.
		if office, err := s.reg.IsPetitionOffice(ctx, p.Unit); err != nil {
			return nil, err
		} else if office {
			return nil, nil
		}
		units, err := s.unitTree(ctx, p.Unit)
		if err != nil {
			return nil, err
		}
		return &register.Scope{LedgerUnits: units}, nil
	case scopeReviewUnit:
		return &register.Scope{ReviewUnits: []string{p.Unit}}, nil
	default:
		return &register.Scope{}, nil
	}
}

// inScope reports whether a case is within sc (nil: every case).
func inScope(sc *register.Scope, c register.Case) bool {
	if sc == nil {
		return true
	}
	ledger := c.Unit
	if ledger == "" {
		ledger = c.SuggestedUnit
	}
	for _, u := range c.InvolvedUnits { // co-handling units, the joint investigation team
		if slices.Contains(sc.LedgerUnits, u) {
			return true
		}
	}
	return (ledger != "" && slices.Contains(sc.LedgerUnits, ledger)) ||
		(c.ReviewUnit != "" && slices.Contains(sc.ReviewUnits, c.ReviewUnit)) ||
		(c.ReReviewUnit != "" && slices.Contains(sc.ReviewUnits, c.ReReviewUnit))
}

// statsUnits lists the units whose statistics p may read (nil: any unit).
func (s *Server) statsUnits(ctx context.Context, p Principal) ([]string, error) {
	sc, err := s.caseScope(ctx, p)
	if err != nil || sc == nil {
		return nil, err
	}
	return slices.Clone(sc.LedgerUnits), nil
}

// unitTree is code and every unit below it, from the directory.
func (s *Server) unitTree(ctx context.Context, code string) ([]string, error) {
	units, err := s.reg.Units(ctx)
	if err != nil {
		return nil, err
	}
	children := map[string][]string{}
	for _, u := range units {
		if u.Parent != "" {
			children[u.Parent] = append(children[u.Parent], u.Code)
		}
	}
	out := []string{code}
	for i := 0; i < len(out) && i < len(units)+1; i++ {
		for _, c := range children[out[i]] {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
