def test_login_page_is_french(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Connexion" in response.get_data(as_text=True)


def test_demo_worker_logs_in(client, login):
    login("worker@aurore.demo")
    assert client.get("/").status_code == 302
