package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/metrics"
)

// The routes the metrics single out: registrations and case actions (staff and petitioner).
const (
	routeRegister     = "/api/v1/petitions"
	routeAction       = "/api/v1/petitions/:no/:action"
	routePublicAction = "/api/v1/public/petitions/:no/:action"
)

// ctxRegistrationOutcome carries a registration's outcome from its handler to observe when
// the status alone does not tell it (a repeat linked, a terminated matter refused).
const ctxRegistrationOutcome = "metrics.registration_outcome"

// setRegistrationOutcome names the outcome of the registration being answered.
func setRegistrationOutcome(c *gin.Context, outcome string) {
	c.Set(ctxRegistrationOutcome, outcome)
}

// observe feeds the metrics (internal/metrics) once a request has been answered: every
// request's latency by route pattern, and registrations and case actions by outcome. Labels
// are route patterns and known action names only, never paths, case numbers or anything a
// client typed. The metrics themselves are served on the admin listener, not here.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.metrics == nil {
			c.Next()
			return
		}
		start := time.Now()
		c.Next()
		d := time.Since(start)
		status, route := c.Writer.Status(), c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.HTTPRequest(c.Request.Method, route, status, d)
		if c.Request.Method != http.MethodPost {
			return
		}
		switch route {
		case routeRegister:
			s.metrics.Registration(registrationOutcome(c.GetString(ctxRegistrationOutcome), status))
		case routeAction:
			s.metrics.Action(knownAction(actions, c.Param("action")), status, d)
		case routePublicAction:
			s.metrics.Action(knownAction(publicActions, c.Param("action")), status, d)
		}
	}
}

// registrationOutcome is the outcome the handler named, or else the one its status tells.
func registrationOutcome(named string, status int) string {
	switch {
	case named != "":
		return named
	case status == http.StatusCreated:
		return metrics.RegistrationCreated
	case status >= 200 && status < 300:
		return metrics.RegistrationRetried
	case status >= 500:
		return metrics.RegistrationError
	default:
		return metrics.RegistrationRejected
	}
}

// knownAction is the action's name if it is one, so a client cannot mint label values.
func knownAction(known map[string]string, name string) string {
	if _, ok := known[name]; ok {
		return name
	}
	return "unknown"
}
