"""The uploader's HTTP digest client (PrusaLink's auth) against the RFCs' own examples."""

from uploader.digestauth import DigestAuth, challenge_fields

RFC7616 = ('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
           'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')


def fields(header):
    """The fields of an Authorization header, parsed as a challenge's are."""
    return challenge_fields(header)


def test_the_rfc_7616_md5_example_gets_its_response():
    auth = DigestAuth("Mufasa", "Circle of Life", cnonce=lambda: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    assert auth.header("GET", "/dir/index.html") is None  # nothing to answer before a challenge
    assert auth.challenged(RFC7616)
    answer = fields(auth.header("GET", "/dir/index.html"))
    assert answer["response"] == "8ca523f5e9506fed4657c9700eebdbec"
    assert (answer["username"], answer["uri"], answer["qop"], answer["nc"]) == ("Mufasa", "/dir/index.html", "auth",
                                                                                "00000001")
    assert answer["opaque"] == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def test_the_rfc_2069_example_without_qop_gets_its_response():
    auth = DigestAuth("Mufasa", "CircleOfLife")
    assert auth.challenged('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
                           'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    answer = fields(auth.header("GET", "/dir/index.html"))
    assert answer["response"] == "1949323746fe6a43ef61f9606e7febea" and "qop" not in answer


def test_the_nonce_count_rises_until_a_new_nonce():
    auth = DigestAuth("maker", "secret")
    auth.challenged('Digest realm="Printer API", qop="auth", nonce="one"')
    assert [fields(auth.header("GET", "/api/v1/status"))["nc"] for _ in range(3)] == ["00000001", "00000002",
                                                                                       "00000003"]
    auth.challenged('Digest realm="Printer API", qop="auth", nonce="two"')
    answer = fields(auth.header("GET", "/api/v1/status"))
    assert (answer["nonce"], answer["nc"]) == ("two", "00000001")


def test_challenges_it_cannot_answer_are_not_taken():
    auth = DigestAuth("maker", "secret")
    assert not auth.challenged(None)
    assert not auth.challenged('Basic realm="Printer API"')
    assert not auth.challenged('Digest realm="Printer API", nonce="n", algorithm=SHA-256')
    assert not auth.challenged('Digest realm="Printer API", nonce="n", qop="auth-int"')
    assert not auth.challenged('Digest realm="Printer API"')  # no nonce
    assert auth.header("GET", "/") is None
