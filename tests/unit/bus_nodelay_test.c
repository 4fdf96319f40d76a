/* bus_nodelay_test - the bus client turns Nagle off on its broker connection (bus_nodelay.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/bus_internal.h"

static void test_url_port(void **state)
{
    (void)state;
    assert_int_equal(sb_bus__url_port("tcp://127.0.0.1:18830"), 18830);
    assert_int_equal(sb_bus__url_port("mqtt://broker"), 1883);
    assert_int_equal(sb_bus__url_port("tcp://broker/"), 1883);
    assert_int_equal(sb_bus__url_port("ssl://broker"), 8883);
    assert_int_equal(sb_bus__url_port("mqtts://broker:9999"), 9999);
    assert_int_equal(sb_bus__url_port("ws://broker/mqtt"), 80);
    assert_int_equal(sb_bus__url_port("wss://broker:8443/mqtt"), 8443);
    assert_int_equal(sb_bus__url_port("tcp://[::1]:2000"), 2000);
    assert_int_equal(sb_bus__url_port("tcp://[::1]"), 1883);
    assert_int_equal(sb_bus__url_port("tcp://h:notaport"), 1883);
}

/* A listening loopback socket and a client connected to it; returns the port. */
static int pair(int *lfd, int *cfd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    *lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(*lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(*lfd, 4), 0);
    assert_int_equal(getsockname(*lfd, (struct sockaddr *)&a, &len), 0);
    *cfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(*cfd, (struct sockaddr *)&a, sizeof(a)), 0);
    return ntohs(a.sin_port);
}

static int nodelay(int fd)
{
    int v = -1;
    socklen_t len = sizeof(v);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    return v;
}

static void test_set_nodelay(void **state)
{
    (void)state;
    int l1, c1, l2, c2;
    int port = pair(&l1, &c1);
    pair(&l2, &c2);
    assert_int_equal(nodelay(c1), 0);
    char url[64];
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    sb_bus__set_nodelay(url);
    assert_int_equal(nodelay(c1), 1); /* the connection to the broker's port */
    assert_int_equal(nodelay(c2), 0); /* another connection is left alone */
    close(c1), close(l1), close(c2), close(l2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_port),
        cmocka_unit_test(test_set_nodelay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
