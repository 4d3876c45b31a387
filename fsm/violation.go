package fsm

// Violation is a rule a segment broke, as the state machine saw it. Its
// String form is the stable lower_snake_case name used in reports, borrowing
// Zeek's weird names where one exists.
type Violation uint8

// Violations the state machine detects.
const (
	ViolationNone                  Violation = iota
	ViolationSYNFIN                          // SYN and FIN together (nmap/hping probes; Suricata fin_syn)
	ViolationSYNRST                          // SYN and RST together (Zeek TCP_christmas)
	ViolationNullFlags                       // no flag at all (nmap -sN)
	ViolationXmas                            // FIN+PSH+URG without SYN/RST/ACK (nmap -sX)
	ViolationFINNoACK                        // FIN without ACK (nmap -sF; RFC 9293 §3.1: ACK is always sent once connected)
	ViolationSYNSeqChanged                   // a SYN retransmission with another ISN (Zeek SYN_seq_jump)
	ViolationSYNInWindow                     // SYN on a synchronized connection (RFC 5961 §4; Zeek SYN_inside_connection)
	ViolationSYNACKWrongAck                  // SYN-ACK whose ACK is not ISS+1 (Suricata 3whs_synack_with_wrong_ack)
	ViolationRSTInvalidToSYN                 // RST in SYN-SENT that does not acknowledge the SYN (RFC 9293 §3.10.7.3)
	ViolationRSTInWindow                     // RST in the window but not at RCV.NXT: draws a challenge ACK (RFC 5961 §3.2)
	ViolationRSTOutOfWindow                  // RST outside the receive window: ignored
	ViolationRSTWithData                     // RST carrying payload (allowed, RFC 9293 SHLD-2; Zeek RST_with_data)
	ViolationDataAfterFIN                    // data beyond the sender's own FIN
	ViolationDataAfterRST                    // data or FIN from a side that had reset (Zeek data_after_reset)
	ViolationFINSeqChanged                   // a later FIN at another sequence number (Zeek FIN_advanced_last_seq)
	ViolationTimeWaitAssassination           // RST ended TIME-WAIT (RFC 1337 hazard H3)
	ViolationRSTFIN                          // RST and FIN together: the RST wins (RFC 9293 §3.10.7.4 checks RST before FIN)
	ViolationSYNURG                          // SYN with URG (Zeek baroque_SYN); the SYN is processed, URG means nothing on it
	ViolationSYNResend                       // the sender's own SYN again, same ISN, on a synchronized connection
	ViolationTimeWaitLate                    // data or FIN reaching an endpoint in TIME-WAIT: its final ACK was lost
	ViolationTimeWaitSYNRejected             // a SYN refused by TIME-WAIT's bare ACK, reset by its sender (RFC 9293 §3.10.7.3)
	violationCount
)

var violationNames = [...]string{
	ViolationNone:                  "none",
	ViolationSYNFIN:                "syn_fin",
	ViolationSYNRST:                "syn_rst",
	ViolationNullFlags:             "null_flags",
	ViolationXmas:                  "xmas_flags",
	ViolationFINNoACK:              "fin_without_ack",
	ViolationSYNSeqChanged:         "syn_seq_jump",
	ViolationSYNInWindow:           "syn_inside_connection",
	ViolationSYNACKWrongAck:        "synack_wrong_ack",
	ViolationRSTInvalidToSYN:       "invalid_rst_to_syn",
	ViolationRSTInWindow:           "rst_in_window",
	ViolationRSTOutOfWindow:        "rst_out_of_window",
	ViolationRSTWithData:           "rst_with_data",
	ViolationDataAfterFIN:          "data_after_fin",
	ViolationDataAfterRST:          "data_after_reset",
	ViolationFINSeqChanged:         "fin_seq_changed",
	ViolationTimeWaitAssassination: "time_wait_assassination",
	ViolationRSTFIN:                "rst_fin",
	ViolationSYNURG:                "syn_urg",
	ViolationSYNResend:             "syn_resend",
	ViolationTimeWaitLate:          "time_wait_late_segment",
	ViolationTimeWaitSYNRejected:   "time_wait_syn_rejected",
}

// ViolationCount is the number of Violation values, ViolationNone included.
const ViolationCount = int(violationCount)

// String returns the stable report name. It never panics.
func (v Violation) String() string {
	if int(v) < len(violationNames) {
		return violationNames[v]
	}
	return "unknown_violation"
}

// MarshalText renders the violation for JSON.
func (v Violation) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// flagViolation checks combinations RFC 9293 gives no meaning to.
func flagViolation(f Flags) Violation {
	switch {
	case f&(FlagSYN|FlagFIN|FlagRST) == 0 && f&FlagACK != 0:
		// The common case, first: none of the cases below can hold
		// without SYN, FIN or RST, or (null, Xmas) with ACK.
		return ViolationNone
	case f.Contains(FlagSYN | FlagFIN):
		return ViolationSYNFIN
	case f.Contains(FlagSYN | FlagRST):
		return ViolationSYNRST
	case f.Contains(FlagRST | FlagFIN):
		return ViolationRSTFIN
	case f&(FlagFIN|FlagSYN|FlagRST|FlagPSH|FlagACK|FlagURG) == 0:
		return ViolationNullFlags
	case f&(FlagFIN|FlagPSH|FlagURG) == FlagFIN|FlagPSH|FlagURG && f&(FlagSYN|FlagRST|FlagACK) == 0:
		return ViolationXmas
	case f&FlagFIN != 0 && f&FlagACK == 0 && f&FlagRST == 0:
		return ViolationFINNoACK
	case f.Contains(FlagSYN | FlagURG):
		return ViolationSYNURG
	}
	return ViolationNone
}
