from deals.notifications.crypto import secret_decrypt, secret_encrypt, text_redact, url_mask, url_secret_parts

URL = "json://hookuser:S3cretPassw0rd@127.0.0.1:8080/hooks/abc?token=T0kenValue123"


def test_encrypted_url_does_not_contain_the_secret_and_decrypts_back():
    token = secret_encrypt(URL)
    assert "S3cretPassw0rd" not in token and "T0kenValue123" not in token
    assert secret_decrypt(token) == URL


def test_the_key_can_be_set_and_rotated(settings):
    settings.CHANNEL_ENCRYPTION_KEY = "old-key"
    token = secret_encrypt(URL)
    settings.CHANNEL_ENCRYPTION_KEY = "new-key,old-key"
    assert secret_decrypt(token) == URL


def test_the_mask_shows_the_service_and_a_plain_host_only():
    assert url_mask(URL) == "json://127.0.0.1/****"
    assert url_mask("tgram://123456789:AAbbCCddEEffGGhh/12345") == "tgram://****/****"


def test_redaction_removes_every_secret_piece():
    text = f"failed for {URL}: auth S3cretPassw0rd token T0kenValue123 user hookuser"
    cleaned = text_redact(text, url_secret_parts(URL))
    for secret in ("S3cretPassw0rd", "T0kenValue123", "hookuser"):
        assert secret not in cleaned


def test_a_token_kept_in_the_host_is_a_secret_too():
    parts = url_secret_parts("tgram://123456789:AAbbCCddEEffGGhh/12345")
    assert "AAbbCCddEEffGGhh" in parts
