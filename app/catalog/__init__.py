"""The service catalogue (事项目录): items, their guides (办事指南), materials, situations and search."""
