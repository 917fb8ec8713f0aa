"""What the gate tells Moonraker about the client: the address nginx gave, its credentials, its Origin."""

from moonraker_gate.gate import client_of, upstream_headers


def test_the_address_nginx_set_is_passed_on():
    environ = {"HTTP_X_REAL_IP": "192.168.1.20", "HTTP_X_FORWARDED_FOR": "192.168.1.20"}
    assert upstream_headers(environ) == [("X-Real-IP", "192.168.1.20"), ("X-Forwarded-For", "192.168.1.20")]
    assert client_of(environ) == "192.168.1.20"


def test_a_client_of_the_socket_itself_sends_no_address_and_is_local():
    assert upstream_headers({}) == []
    assert client_of({}) == "local"


def test_the_clients_credentials_and_origin_pass_and_nothing_else():
    environ = {"HTTP_X_API_KEY": "k", "HTTP_AUTHORIZATION": "Bearer t", "HTTP_COOKIE": "session=1",
               "HTTP_ORIGIN": "http://pi:7126", "HTTP_HOST": "pi:7126", "HTTP_X_FORWARDED_PROTO": "http",
               "HTTP_SEC_WEBSOCKET_KEY": "x", "HTTP_UPGRADE": "websocket"}
    assert upstream_headers(environ) == [("Origin", "http://pi:7126"), ("X-Api-Key", "k"),
                                         ("Authorization", "Bearer t")]
