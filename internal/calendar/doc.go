// Package calendar is the legal calendar of the petitions service: it knows the Chinese public
// holidays and make-up workdays (调休) year by year, and computes statutory due instants with an
// explanation a clerk can read.
//
// Counting follows the Civil Code (民法典) arts. 201–203, which 信访 offices apply to the limits of
// the 信访工作条例:
//
//   - the day on which a period starts is not counted; counting begins the next day (art. 201);
//   - a period in months ends on the corresponding day of the last month, or that month's last day
//     if it has no corresponding day (art. 202);
//   - if the last day is a statutory rest day, the period ends on the day after the rest ends, and a
//     last day ends at 24:00 (art. 203).
//
// Day boundaries are those of Asia/Shanghai. The package is pure: no database, no clock, no
// Temporal, so workflows can call it deterministically.
package calendar
