from config.bootstrap import bootstrap

bootstrap()

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after the bootstrap step)

application = get_wsgi_application()
