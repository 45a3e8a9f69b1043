# The course machines: one exact stack.
tensorflow = "2.15"
python = "3.11"
env_name = "course"
