from config.bootstrap import bootstrap

bootstrap()

from django.core.asgi import get_asgi_application  # noqa: E402  (after the bootstrap step)

application = get_asgi_application()
