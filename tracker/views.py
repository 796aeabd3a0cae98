from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Product


@login_required
def dashboard(request):
    products = Product.objects.filter(owner=request.user).prefetch_related("listings")
    return render(request, "tracker/dashboard.html", {"products": products})
