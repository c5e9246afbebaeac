package labels

// Leader reception days (领导接访日): an appointment's status (约访状态) and how a received
// visit's case came about. The codes are the register's (register.Appointment*,
// register.Received*).
const (
	KindAppointmentStatus = "appointment_status"
	KindReceivedAs        = "received_as"
)

func init() {
	table[KindAppointmentStatus] = map[string]term{
		"booked":    {"已预约", "booked"},
		"received":  {"已接待", "received"},
		"no_show":   {"未到访", "no-show"},
		"cancelled": {"已取消", "cancelled"},
	}
	table[KindReceivedAs] = map[string]term{
		"registered":      {"登记为新事项", "registered as a new case"},
		"repeat":          {"重复信访并案", "linked as a repeat petition"},
		"leader_assigned": {"领导包案", "leader in charge of the case"},
	}
}
