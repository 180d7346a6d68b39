"""Rules: the condition → outcome engine behind eligibility, resolution, compensation, routing and outreach."""
