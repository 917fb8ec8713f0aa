"""What the gate tells Moonraker about the client in its websocket handshake."""

from moonraker_gate.session import upstream_headers


def test_the_address_nginx_set_is_passed_on():
    environ = {"REMOTE_ADDR": "172.18.0.5", "HTTP_X_REAL_IP": "192.168.1.20", "HTTP_X_FORWARDED_FOR": "192.168.1.20"}
    assert upstream_headers(environ) == {"X-Real-IP": "192.168.1.20", "X-Forwarded-For": "192.168.1.20"}


def test_without_nginx_headers_moonraker_sees_the_peer_not_the_gate():
    assert upstream_headers({"REMOTE_ADDR": "172.18.0.5"}) == {"X-Real-IP": "172.18.0.5",
                                                               "X-Forwarded-For": "172.18.0.5"}


def test_the_clients_credentials_pass_and_nothing_else():
    environ = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_API_KEY": "k", "HTTP_AUTHORIZATION": "Bearer t",
               "HTTP_COOKIE": "session=1", "HTTP_ORIGIN": "http://evil.example", "HTTP_HOST": "pi:7126"}
    assert upstream_headers(environ) == {"X-Real-IP": "10.0.0.2", "X-Forwarded-For": "10.0.0.2",
                                         "X-Api-Key": "k", "Authorization": "Bearer t"}
