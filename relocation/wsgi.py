import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.production")
application = get_wsgi_application()
# The ~130,000 objects of a loaded Django never die: frozen, the collector stops walking them in every
# full collection a large request triggers (a city's indicator workbook: 7 % of its time).
gc.freeze()
