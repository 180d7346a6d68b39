"""Analytics: metric events heard from other contexts, daily rollups and the service KPIs."""
