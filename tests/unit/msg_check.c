/* msg_check.c - assertions on mapped messages (msg_check.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "msg_check.h"

void sbt_payload_check(const sb_payload *p, const char *what, const char *value, sb_metric_type mt,
                       const char *unit)
{
    if (!p)
        fail_msg("no field %s", what);
    if (value)
        assert_string_equal(p->value, value);
    assert_int_equal(p->metric_type, mt);
    if (unit)
        assert_string_equal(p->unit, unit);
    else
        assert_null(p->unit);
}
