"""The humanitarian board in the console: requests and pledges with their actions,
standby suggestions, shelters, displacement, CSV import, HXL downloads, the gap chart."""
