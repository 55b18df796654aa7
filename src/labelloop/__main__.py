from labelloop.cli.main import app

app()
